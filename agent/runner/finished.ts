/**
 * Memory of finished commands, so a replayed command (hub restart, reconnect, the same command
 * on two streams) is never run again. Ids are kept until the command's deadline has passed (a
 * command received after its deadline is answered `timeout` without running), result bodies
 * only for the most recent ones (count, bytes and age are capped: a search page can be MBs).
 */

/** Why a command has no result to re-post. */
export type Outcome = 'result' | 'cancelled' | 'taken' | 'invalid';

export interface FinishedEntry {
  outcome: Outcome;
  /** Epoch ms; a replay is re-posted only until then. */
  deadline: number;
  /** The encoded result; dropped first when memory is short. */
  body?: string;
}

export interface FinishedLimits {
  /** Result bodies kept (default 200). */
  maxResults: number;
  /** Bytes of result bodies kept (default 16 MiB: a few search pages, not a directory). */
  maxBytes: number;
  /** How long a body is kept (default 10 min). */
  ttlMs: number;
  /** Ids kept at most, whatever their deadline (default 100 000). */
  maxIds: number;
}

const DEFAULTS: FinishedLimits = {
  maxResults: 200,
  maxBytes: 16 * 1024 * 1024,
  ttlMs: 10 * 60_000,
  maxIds: 100_000,
};

interface Slot extends FinishedEntry {
  at: number;
}

export class FinishedCache {
  // Insertion order is finish order, so iteration meets the oldest first.
  readonly #slots = new Map<string, Slot>();
  #bodies = 0;
  #bytes = 0;
  readonly #limits: FinishedLimits;

  constructor(
    limits: Partial<FinishedLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.#limits = { ...DEFAULTS, ...limits };
  }

  get(id: string): FinishedEntry | undefined {
    this.#prune();
    return this.#slots.get(id);
  }

  set(id: string, entry: FinishedEntry): void {
    this.#drop(id);
    this.#slots.set(id, { ...entry, at: this.now() });
    if (entry.body !== undefined) {
      this.#bodies++;
      this.#bytes += Buffer.byteLength(entry.body);
    }
    this.#prune();
  }

  get size(): number {
    return this.#slots.size;
  }

  #prune(): void {
    const now = this.now();
    const { maxResults, maxBytes, ttlMs, maxIds } = this.#limits;
    for (const [id, slot] of this.#slots) {
      if (Math.max(slot.deadline, slot.at + ttlMs) < now || this.#slots.size > maxIds) {
        this.#drop(id);
        continue;
      }
      const stale = slot.at + ttlMs < now;
      const overfull = this.#bodies > maxResults || this.#bytes > maxBytes;
      if (!stale && !overfull) return; // younger slots are fresher still, and within the caps
      this.#dropBody(slot);
    }
  }

  #drop(id: string): void {
    const slot = this.#slots.get(id);
    if (slot) this.#dropBody(slot);
    this.#slots.delete(id);
  }

  #dropBody(slot: Slot): void {
    if (slot.body === undefined) return;
    this.#bodies--;
    this.#bytes -= Buffer.byteLength(slot.body);
    slot.body = undefined;
  }
}
