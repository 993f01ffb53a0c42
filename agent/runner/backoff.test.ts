import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from './backoff.ts';

const policy = { initialMs: 1000, maxMs: 60_000, jitter: 0.2 };
const middle = () => 0.5; // no jitter

describe('backoffDelay', () => {
  it('doubles from initialMs and stops at maxMs', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(policy, n, middle));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('moves the delay by at most ±jitter', () => {
    expect(backoffDelay(policy, 0, () => 0)).toBe(800);
    expect(backoffDelay(policy, 0, () => 1)).toBe(1200);
    expect(backoffDelay(policy, 10, () => 1)).toBe(72_000); // the cap, plus its jitter
    expect(backoffDelay({ ...policy, jitter: 0 }, 3, () => 0)).toBe(8000);
  });
});

describe('Backoff', () => {
  it('grows with next(), jumps to the cap with max(), starts over after reset()', () => {
    const b = new Backoff(policy, middle);
    expect([b.next(), b.next(), b.next()]).toEqual([1000, 2000, 4000]);
    expect(b.max()).toBe(60_000);
    expect(b.next()).toBe(60_000);
    b.reset();
    expect(b.next()).toBe(1000);
  });
});
