/**
 * Connections for paged searches. OpenLDAP binds a paged-results cookie to the connection that
 * produced it and keeps one paged search per connection, so each search in progress owns a
 * connection until its last page. The cookie handed to callers is a random token mapped to
 * (connection, server cookie): server cookies of different connections may be equal bytes.
 */
import { randomBytes } from 'node:crypto';

export interface PagingPoolOptions<C> {
  open(): C;
  close(conn: C): Promise<void>;
  /** Most connections held at once (default 8): the number of concurrent paged searches. */
  max?: number;
  /** A paused search whose next page is not asked for within this is dropped (default 5 min). */
  idleMs?: number;
}

export interface PagedLease<C> {
  conn: C;
  /** The server's cookie for the next page; undefined on a first page. */
  serverCookie?: string;
  /** Ends this page: parks the connection under a new token (returned) or frees it. */
  done(nextServerCookie?: string): string | undefined;
  /** The page failed: the connection is closed and dropped (its paging state is unknown). */
  fail(): void;
}

export interface PagingPool<C> {
  /** A connection with no search in progress (opening one, or evicting the stalest pause). */
  start(): Promise<PagedLease<C>>;
  /** The lease for a token from `done`, or undefined when unknown, used or expired. */
  resume(token: string): PagedLease<C> | undefined;
  /** Any connection, for operations that keep no paging state (LDAP multiplexes them). */
  any(): C;
  size(): number;
  close(): Promise<void>;
}

interface Slot<C> {
  conn: C;
  state: 'free' | 'busy' | 'parked';
  token?: string;
  serverCookie?: string;
  parkedAt: number;
  timer?: NodeJS.Timeout;
}

export function createPagingPool<C>(options: PagingPoolOptions<C>): PagingPool<C> {
  const max = options.max ?? 8;
  const idleMs = options.idleMs ?? 300_000;
  const slots: Slot<C>[] = [];
  const parked = new Map<string, Slot<C>>();
  let waiters: (() => void)[] = [];
  let closed = false;

  const wake = () => {
    const now = waiters;
    waiters = [];
    for (const w of now) w();
  };
  const unpark = (slot: Slot<C>) => {
    if (slot.token) parked.delete(slot.token);
    clearTimeout(slot.timer);
    slot.token = slot.serverCookie = slot.timer = undefined;
  };
  const drop = (slot: Slot<C>) => {
    unpark(slot);
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    void options.close(slot.conn).catch(() => {});
    wake();
  };
  const open = (state: Slot<C>['state']): Slot<C> => {
    const slot: Slot<C> = { conn: options.open(), state, parkedAt: 0 };
    slots.push(slot);
    return slot;
  };

  function lease(slot: Slot<C>): PagedLease<C> {
    const serverCookie = slot.serverCookie;
    unpark(slot);
    slot.state = 'busy';
    let ended = false;
    return {
      conn: slot.conn,
      ...(serverCookie ? { serverCookie } : {}),
      done(next) {
        if (ended) return undefined;
        ended = true;
        if (!next) {
          slot.state = 'free';
          wake();
          return undefined;
        }
        const token = randomBytes(18).toString('base64url');
        Object.assign(slot, { state: 'parked', token, serverCookie: next, parkedAt: Date.now() });
        slot.timer = setTimeout(() => drop(slot), idleMs).unref();
        parked.set(token, slot);
        wake();
        return token;
      },
      fail() {
        if (ended) return;
        ended = true;
        drop(slot);
      },
    };
  }

  /** A free slot, a new one under the cap, or the slot of the longest-paused search. */
  function claim(): Slot<C> | undefined {
    if (closed) throw new Error('the LDAP connector is closed');
    const free = slots.find((s) => s.state === 'free');
    if (free) return free;
    if (slots.length < max) return open('free');
    const stalest = [...parked.values()].sort((a, b) => a.parkedAt - b.parkedAt)[0];
    return stalest;
  }

  return {
    async start() {
      for (;;) {
        const slot = claim();
        if (slot) return lease(slot);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    resume(token) {
      const slot = parked.get(token);
      return slot ? lease(slot) : undefined;
    },
    any() {
      if (closed) throw new Error('the LDAP connector is closed');
      const slot = slots.find((s) => s.state === 'free') ?? slots[0] ?? open('free');
      return slot.conn;
    },
    size: () => slots.length,
    async close() {
      closed = true;
      const all = slots.splice(0);
      for (const s of all) unpark(s);
      wake();
      await Promise.all(all.map((s) => options.close(s.conn).catch(() => {})));
    },
  };
}
