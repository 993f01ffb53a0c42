import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPagingPool } from './pool.ts';

interface Fake {
  id: number;
  closed: boolean;
}

function fakePool(max = 2, idleMs = 1000) {
  let next = 0;
  const opened: Fake[] = [];
  const pool = createPagingPool<Fake>({
    open: () => {
      const c = { id: ++next, closed: false };
      opened.push(c);
      return c;
    },
    close: async (c) => {
      c.closed = true;
    },
    max,
    idleMs,
  });
  return { pool, opened };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('paging pool', () => {
  it('gives concurrent searches their own connections and maps tokens back to them', async () => {
    const { pool } = fakePool();
    const a = await pool.start();
    const b = await pool.start();
    expect(a.conn).not.toBe(b.conn);
    const ta = a.done('server-a')!;
    const tb = b.done('server-a')!; // equal server cookies on different connections
    expect(ta).not.toBe(tb);
    const ra = pool.resume(ta)!;
    expect(ra.conn).toBe(a.conn);
    expect(ra.serverCookie).toBe('server-a');
    expect(pool.resume(tb)?.conn).toBe(b.conn);
  });

  it('accepts a token once and frees the connection after the last page', async () => {
    const { pool } = fakePool(1);
    const first = await pool.start();
    const token = first.done('c1')!;
    const page2 = pool.resume(token)!;
    expect(pool.resume(token)).toBeUndefined();
    expect(page2.done(undefined)).toBeUndefined();
    const again = await pool.start();
    expect(again.conn).toBe(first.conn);
    expect(pool.size()).toBe(1);
  });

  it('evicts the longest-paused search when full, expiring its token', async () => {
    vi.useFakeTimers();
    const { pool } = fakePool(2, 60_000);
    const old = (await pool.start()).done('x')!;
    vi.advanceTimersByTime(10);
    const recent = (await pool.start()).done('y')!;
    const third = await pool.start();
    expect(pool.size()).toBe(2);
    expect(pool.resume(old)).toBeUndefined();
    expect(pool.resume(recent)).toBeDefined();
    third.done();
  });

  it('waits for a connection when every one is mid-page', async () => {
    const { pool } = fakePool(1);
    const busy = await pool.start();
    let got = false;
    const waiting = pool.start().then((l) => {
      got = true;
      return l;
    });
    await Promise.resolve();
    expect(got).toBe(false);
    busy.done();
    const lease = await waiting;
    expect(lease.conn).toBe(busy.conn);
  });

  it('closes a connection whose search idles past the timeout or fails', async () => {
    vi.useFakeTimers();
    const { pool, opened } = fakePool(2, 1000);
    const token = (await pool.start()).done('x')!;
    vi.advanceTimersByTime(1001);
    expect(pool.resume(token)).toBeUndefined();
    expect(opened[0]?.closed).toBe(true);
    const failing = await pool.start();
    failing.fail();
    expect(opened[1]?.closed).toBe(true);
    expect(pool.size()).toBe(0);
  });

  it('lends any connection for non-paged work and refuses after close', async () => {
    const { pool, opened } = fakePool(2);
    const paged = await pool.start();
    expect(pool.any()).toBe(paged.conn);
    await pool.close();
    expect(opened.every((c) => c.closed)).toBe(true);
    expect(() => pool.any()).toThrow(/closed/);
    await expect(pool.start()).rejects.toThrow(/closed/);
  });
});
