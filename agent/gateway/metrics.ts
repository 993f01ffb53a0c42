/**
 * The gateway's Prometheus metrics, in a registry of its own that /metrics merges in. No
 * tenant or agent labels: their number is unbounded.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StreamRegistry } from './streams.ts';

export function createGatewayMetrics(streams: StreamRegistry) {
  const registry = new Registry();
  new Gauge({
    name: 'idhub_agent_streams',
    help: 'Agent streams open on this replica',
    registers: [registry],
    collect() {
      this.set(streams.streamCount());
    },
  });
  new Gauge({
    name: 'idhub_agents_connected',
    help: 'Distinct agents with a stream open on this replica',
    registers: [registry],
    collect() {
      this.set(streams.agentIds().length);
    },
  });
  const commands = new Counter({
    name: 'idhub_agent_commands_total',
    help: 'Agent commands issued from this replica by kind and outcome (ok or the error code)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'idhub_agent_command_duration_seconds',
    help: 'Time from issuing an agent command to its result, by kind',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return {
    registry,
    observe(kind: string, outcome: string, seconds: number): void {
      commands.inc({ kind, outcome });
      latency.observe({ kind }, seconds);
    },
  };
}
