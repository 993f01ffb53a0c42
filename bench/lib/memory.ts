import type { BenchHub, Memory } from './hub.ts';
import { fmt, type Row } from './table.ts';

const BUDGET_MB = 400;

/** The hub's memory after the whole run, against its idle footprint right after start. */
export function memoryRow(hub: BenchHub, idle: Memory): Row {
  const after = hub.memory();
  const peak = after.peakMb ?? after.rssMb;
  const whose =
    hub.mode === 'child'
      ? 'hub process VmRSS/VmHWM'
      : 'bench process RSS: hub + load generator + baseline clients';
  return {
    name: `Hub memory after the run (${whose})`,
    hub: `RSS ${fmt.mb(after.rssMb)} · peak ${fmt.mb(peak)}`,
    baseline: `idle after start: RSS ${fmt.mb(idle.rssMb)}`,
    ratio: fmt.ratio(after.rssMb / idle.rssMb, 'RSS'),
    budget: `peak ≤ ${BUDGET_MB} MB`,
    pass: peak <= BUDGET_MB,
  };
}
