/** Reconnect and retry delays: exponential, capped, with jitter so agents do not move in lockstep. */

export interface DelayPolicy {
  initialMs: number;
  maxMs: number;
  /** Fraction of the delay added or removed at random (0..1). */
  jitter: number;
}

/**
 * The delay before retry number `attempt` (0-based): initialMs × 2^attempt, capped at maxMs,
 * then moved by ±jitter at random. `random` is injectable for tests (0..1, like Math.random).
 */
export function backoffDelay(policy: DelayPolicy, attempt: number, random = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
}

/** A backoff sequence: next() grows the delay, reset() starts over after a healthy period. */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly policy: DelayPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    return backoffDelay(this.policy, this.#attempt++, this.random);
  }

  /** The capped delay, for failures that will not heal soon (revoked, wrong credentials). */
  max(): number {
    this.#attempt = Math.max(this.#attempt, 31);
    return backoffDelay(this.policy, this.#attempt, this.random);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (no rejection: callers check the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
