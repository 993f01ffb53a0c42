/** Latency samples in milliseconds and what a row reports about them. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

export interface ThroughputSummary extends LatencySummary {
  /** Operations per second over the measured window. */
  rate: number;
  errors: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samples: number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  const sum = arr.reduce((a, b) => a + b, 0);
  return {
    count: arr.length,
    p50: percentile(arr, 50),
    p99: percentile(arr, 99),
    mean: sum / (arr.length || 1),
  };
}

/** Runs `op` `n` times one after the other; returns each call's latency. */
export async function timeSequential(
  n: number,
  op: (i: number) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

/**
 * Runs `op` from `concurrency` loops until `durationMs` elapsed or `amount` operations were
 * started, whichever comes first (the shape of an autocannon run, for raw-SQL baselines).
 */
export async function timeConcurrent(
  opts: { concurrency: number; durationMs: number; amount?: number },
  op: (i: number) => Promise<unknown>,
): Promise<ThroughputSummary> {
  const samples: number[] = [];
  let started = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + opts.durationMs;
  const limit = opts.amount ?? Number.POSITIVE_INFINITY;
  const loop = async () => {
    while (started < limit && performance.now() < deadline) {
      const i = started++;
      const t = performance.now();
      try {
        await op(i);
        samples.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  const seconds = (performance.now() - t0) / 1000;
  return { ...summarize(samples), rate: samples.length / seconds, errors };
}
