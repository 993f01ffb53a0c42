import autocannon, { type RawRequest } from 'autocannon';
import type { ThroughputSummary } from './stats.ts';

export interface LoadOptions {
  url: string;
  token: string;
  connections: number;
  /** Seconds; the run stops at whichever of duration/amount comes first. */
  duration: number;
  amount?: number;
  method?: 'GET' | 'POST';
  /** Builds request `i` (path and optional body); called once per request sent. */
  next: (i: number) => { path: string; body?: string };
}

/** Drives the hub with autocannon; only 2xx answers count as done work. */
export async function runLoad(o: LoadOptions): Promise<ThroughputSummary & { statuses: string }> {
  let i = 0;
  const headers: Record<string, string> = {
    authorization: `Bearer ${o.token}`,
    accept: 'application/scim+json',
    'content-type': 'application/scim+json',
  };
  const setupRequest = (req: RawRequest): RawRequest => {
    const { path, body } = o.next(i++);
    return { ...req, method: o.method ?? 'GET', path, headers, ...(body ? { body } : {}) };
  };
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.duration,
    ...(o.amount ? { amount: o.amount } : {}),
    timeout: 30,
    requests: [{ setupRequest }],
  });
  // `amount` overrides `duration` in autocannon; the timer keeps a slow hub from running long.
  const cap = setTimeout(() => instance.stop(), o.duration * 1000 + 2000);
  const result = await instance;
  clearTimeout(cap);
  const ok = result['2xx'];
  const statuses = Object.entries(result.statusCodeStats)
    .map(([code, s]) => `${code}×${s.count}`)
    .join(' ');
  return {
    count: ok,
    rate: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    errors: result.errors + result.timeouts + result.non2xx,
    statuses,
  };
}
