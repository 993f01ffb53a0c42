import { describe, expect, it } from 'vitest';
import { FinishedCache } from './finished.ts';

describe('FinishedCache', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('keeps at most maxResults bodies, dropping the oldest first but remembering their ids', () => {
    const cache = new FinishedCache({ maxResults: 2 }, clock);
    for (const id of ['a', 'b', 'c'])
      cache.set(id, { outcome: 'result', deadline: now + 60_000, body: id });
    expect(cache.get('a')).toEqual({
      outcome: 'result',
      deadline: now + 60_000,
      body: undefined,
      at: now,
    });
    expect(cache.get('b')?.body).toBe('b');
    expect(cache.get('c')?.body).toBe('c');
  });

  it('caps the bytes of bodies', () => {
    const cache = new FinishedCache({ maxBytes: 10 }, clock);
    cache.set('a', { outcome: 'result', deadline: now, body: '123456' });
    cache.set('b', { outcome: 'result', deadline: now, body: '123456' });
    expect(cache.get('a')?.body).toBeUndefined();
    expect(cache.get('b')?.body).toBe('123456');
  });

  it('drops a body after ttlMs, and the id once both ttl and deadline have passed', () => {
    const cache = new FinishedCache({ ttlMs: 1000 }, clock);
    cache.set('short', { outcome: 'result', deadline: now + 500, body: 'x' });
    cache.set('long', { outcome: 'taken', deadline: now + 5000 });
    now += 1500;
    expect(cache.get('short')).toBeUndefined();
    expect(cache.get('long')?.outcome).toBe('taken'); // still before its deadline
    now += 5000;
    expect(cache.get('long')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxIds ids', () => {
    const cache = new FinishedCache({ maxIds: 2 }, clock);
    for (const id of ['a', 'b', 'c'])
      cache.set(id, { outcome: 'cancelled', deadline: now + 60_000 });
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
  });
});
