/**
 * The rows and the report of `npm run bench:sync`: every import beside the baseline measured in
 * the same run (raw paged read + COPY), with its ratio and verdict, and where each run's time
 * went (the agent reading pages vs. the hub mapping and writing).
 */
import type { ProcMemory } from './hub.ts';
import type { Baseline } from './sync-baseline.ts';
import { countersText, type RunResult } from './sync-runs.ts';
import { fmt, type Row } from './table.ts';

export const RSS_BUDGET_MB = 400;

const n = (x: number) => x.toLocaleString('en-US');

/** `12.3 s (wall 12.4 s) · 8,130 entries/s · created 100,000, …` */
export function runCell(r: RunResult, entries?: number): string {
  const rate = entries ? ` · ${fmt.rate(entries / r.seconds, 'entries/s')}` : '';
  return `${fmt.s(r.seconds)} (wall ${fmt.s(r.wallSeconds)})${rate} · ${r.mode ?? '?'} · ${countersText(r)}`;
}

export const baselineCell = (b: Baseline) =>
  `${fmt.s(b.total)} = read ${fmt.s(b.read.median)} + COPY ${fmt.s(b.copy.median)}`;

export function baselineRows(b: Baseline, users: number): Row[] {
  const runs = (t: Baseline['read']) =>
    `median of ${t.runs.length} (${t.runs.map((s) => s.toFixed(2)).join(', ')} s)`;
  return [
    {
      name: '`ldapsearch -E pr=1000` paged read of all users (C client, output to /dev/null)',
      hub: `${fmt.s(b.read.median)} · ${fmt.rate(users / b.read.median, 'entries/s')} · ${runs(b.read)}`,
      baseline: '(baseline: raw read)',
      ratio: '—',
    },
    {
      name: `PostgreSQL \`COPY\` of ${n(users)} user rows (default mapping of the same entries, ${fmt.mb(b.copyBytes / 2 ** 20)} of text) into a users-shaped table`,
      hub: `${fmt.s(b.copy.median)} · ${fmt.rate(users / b.copy.median, 'rows/s')} · ${runs(b.copy)}`,
      baseline: '(baseline: COPY)',
      ratio: '—',
    },
  ];
}

export interface ImportRuns {
  first: RunResult;
  second: RunResult;
  full: RunResult;
  delta: RunResult;
  inactive: RunResult;
}

export function importRows(
  runs: ImportRuns,
  b: Baseline,
  sizes: { users: number; delta: number; inactive: number },
  cascade: string,
): Row[] {
  const { first, second, full, delta, inactive } = runs;
  const read = `raw read ${fmt.s(b.read.median)}`;
  const toRead = (r: RunResult) => r.seconds / b.read.median;
  return [
    {
      name: `1st run of an import_active job: full import of ${n(sizes.users)} users into an empty tenant`,
      hub: runCell(first, sizes.users),
      baseline: baselineCell(b),
      ratio: fmt.ratio(first.seconds / b.total, 'baseline'),
      budget: '≤ 4× (read + COPY)',
      pass: first.seconds / b.total <= 4,
    },
    {
      name: '2nd run of the same job, no changes (default options: delta since the 1st run)',
      hub: runCell(second),
      baseline: read,
      ratio: fmt.ratio(toRead(second), 'raw read'),
      budget: '≤ 2× raw read (the budget row: the job’s second run)',
      pass: toRead(second) <= 2,
    },
    {
      name: 'Same job with `options.delta: false`, no changes (full read, every entry compared by hash)',
      hub: runCell(full, sizes.users),
      baseline: read,
      ratio: fmt.ratio(toRead(full), 'raw read'),
      budget: `not budgeted (2× raw read would be ${toRead(full) <= 2 ? 'met' : 'missed'})`,
    },
    {
      name: `Delta run after ${n(sizes.delta)} entries modified (title changed with ldapmodify, untimed)`,
      hub: runCell(delta),
      baseline: read,
      ratio: fmt.ratio(toRead(delta), 'raw read'),
      budget: '≤ 2 s (finished_at − started_at)',
      pass: delta.seconds <= 2,
    },
    {
      name: `import_inactive job \`(pwdAccountLockedTime=*)\`: ${n(sizes.inactive)} locked users deactivated, cascade checked`,
      hub: `${runCell(inactive, sizes.inactive)} · ${cascade}`,
      baseline: read,
      ratio: fmt.ratio(toRead(inactive), 'raw read'),
      budget: 'none in the issue',
    },
  ];
}

/**
 * A peak RSS row. `upper-bound` (the in-process hub: the bench driver and what it loaded
 * before the hub started share the process) can prove the budget met, not missed.
 */
export function memoryRow(
  name: string,
  peak: ProcMemory,
  idle: { cell: string; rssMb: number },
  measures: 'own' | 'upper-bound' = 'own',
): Row {
  const met = peak.peakMb <= RSS_BUDGET_MB;
  const verdict =
    measures === 'own' || met
      ? { budget: `peak ≤ ${RSS_BUDGET_MB} MB`, pass: met }
      : {
          budget: `peak ≤ ${RSS_BUDGET_MB} MB: inconclusive in-process (BENCH_SYNC_HUB=child measures the hub alone)`,
        };
  return {
    name,
    hub: `peak ${fmt.mb(peak.peakMb)} · RSS now ${fmt.mb(peak.rssMb)}`,
    baseline: idle.cell,
    ratio: fmt.ratio(peak.peakMb / idle.rssMb, 'idle RSS'),
    ...verdict,
  };
}

/**
 * Where a run's time went: the agent's own time reading pages from slapd, the command round
 * trips (SSE out, agent, result upload and storage), and the rest (the hub mapping, correlating
 * and writing, plus anything not overlapped with reading).
 */
export function timeSplit(label: string, r: RunResult): string {
  const rest = r.seconds - r.commandSeconds;
  return (
    `- ${label}: ${fmt.s(r.seconds)} in the run; ${r.pages} pages through the agent — agent reading ` +
    `slapd ${fmt.s(r.agentSeconds)}, command round trips ${fmt.s(r.commandSeconds)} (agent time included), ` +
    `run time outside any page command ${fmt.s(rest)} (${((100 * rest) / r.seconds).toFixed(0)}%: ` +
    'hub mapping, correlation, writes, bookkeeping)'
  );
}
