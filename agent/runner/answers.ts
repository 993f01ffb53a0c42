/**
 * Answers to the hub: encodes results, remembers them (finished.ts) and hands them to the
 * poster. A command seen before is answered from memory here — it never reaches a connector.
 */
import type { Logger } from 'pino';
import { type CommandResult, encodeResult, failure, MAX_RESULT_BYTES } from '../protocol.ts';
import { FinishedCache, type FinishedEntry, type Outcome } from './finished.ts';
import { Tracker } from './json.ts';

/** Delivers an encoded result; never rejects (see results.ts). */
export type PostResult = (
  id: string,
  body: string,
  url: string,
  deadline: number,
  signal: AbortSignal,
) => Promise<void>;

/** How long an answer without a deadline of its own (an unparsable command) is retried. */
export const NO_DEADLINE_MS = 30_000;

export class Answers {
  readonly #posting = new Set<string>();
  readonly #posts = new Tracker();
  readonly #stop = new AbortController();

  constructor(
    private readonly post: PostResult,
    private readonly log: Logger,
    private readonly finished = new FinishedCache(),
    private readonly maxBytes = MAX_RESULT_BYTES,
  ) {}

  /** What is known of a command seen before, if anything. */
  seen(id: string): FinishedEntry | undefined {
    return this.finished.get(id);
  }

  /** Records a command that ended without a result to send (cancelled, taken away). */
  remember(id: string, outcome: Outcome, deadline: number): void {
    this.finished.set(id, { outcome, deadline });
  }

  answer(id: string, outcome: Outcome, result: CommandResult, deadline: number, url: string): void {
    const encoded = encodeResult(result, this.maxBytes);
    if (encoded.refused)
      this.log.warn({ id, bytes: encoded.bytes }, 'result too large: sending too_large');
    this.finished.set(id, { outcome, deadline, body: encoded.body });
    this.#send(id, encoded.body, deadline, url);
  }

  /** A replayed command: re-post its result, or say why it is not run again. */
  replay(id: string, seen: FinishedEntry, url: string): void {
    if (seen.outcome === 'cancelled')
      return void this.log.debug({ id }, 'replay of a cancelled command');
    this.log.info({ id, outcome: seen.outcome, via: url }, 'replayed command: not run again');
    const why = `command ${id} was already started on this agent (${seen.outcome}) and its result is no longer held; an agent never runs a command twice`;
    const body = seen.body ?? JSON.stringify(failure('refused', why));
    this.#send(id, body, Math.max(seen.deadline, Date.now() + NO_DEADLINE_MS), url);
  }

  /** Resolves when every post has ended (delivered, dropped or given up). */
  settled(): Promise<void> {
    return this.#posts.settled();
  }

  /** Abandons the posts still retrying (end of the shutdown grace period). */
  abort(): void {
    this.#stop.abort();
  }

  #send(id: string, body: string, deadline: number, url: string): void {
    if (this.#posting.has(id)) return; // the first delivery is still being retried
    this.#posting.add(id);
    const p = this.post(id, body, url, deadline, this.#stop.signal);
    this.#posts.add(p.finally(() => this.#posting.delete(id)));
  }
}
