/**
 * Runs commands from every stream through one ConnectorSet: deduplicated by id (never twice),
 * at most `concurrency` at once, each aborted at its deadline, on cancel, when the hub takes it
 * away, or at shutdown. Only a command that ran to its end (or to its deadline) is answered.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ConnectorSet } from '../connectors/types.ts';
import {
  type Command,
  type CommandResult,
  cancelEventSchema,
  failure,
  parseCommandEvent,
} from '../protocol.ts';
import { type Answers, NO_DEADLINE_MS } from './answers.ts';
import { parseJson, Tracker } from './json.ts';
import { atTime, runUntilAborted } from './run.ts';

export interface ExecutorOptions {
  connectors: ConnectorSet;
  answers: Answers;
  logger: Logger;
  /** Commands run at once (default 8); more wait in a queue. */
  concurrency?: number;
  /** Commands accepted (running + queued) before new ones are refused (default 1000). */
  maxAccepted?: number;
}

const withId = z.looseObject({ id: z.uuid() });

type StopReason = 'cancelled' | 'taken' | 'shutdown';

interface Job {
  command: Command;
  url: string;
  deadline: number;
  controller: AbortController;
  started: boolean;
  stopped?: StopReason;
}

export class CommandExecutor {
  readonly #jobs = new Map<string, Job>();
  readonly #queue: Job[] = [];
  readonly #runs = new Tracker();
  readonly #answers: Answers;
  readonly #log: Logger;
  #running = 0;
  #accepting = true;

  constructor(private readonly o: ExecutorOptions) {
    this.#answers = o.answers;
    this.#log = o.logger;
  }

  /** A `command` event from the stream of `url`. */
  receive(event: { id: string; data: string }, url: string): void {
    const job = this.#admit(event, url);
    if (!job) return;
    const { id, kind, dataSource } = job.command;
    this.#log.info({ id, kind, dataSource, via: url }, 'command received');
    this.#jobs.set(id, job);
    this.#queue.push(job);
    this.#pump();
  }

  /** The job to run, or undefined when the command is a duplicate or answered at once. */
  #admit(event: { id: string; data: string }, url: string): Job | undefined {
    if (!this.#accepting) return undefined;
    const parsed = parseCommandEvent({ event: 'command', data: event.data });
    // Not the SSE id: it persists across events, so it may name the previous command.
    const id = parsed.ok ? parsed.value.id : parseJson(withId, event.data)?.id;
    const seen = id ? this.#answers.seen(id) : undefined;
    if (!id) this.#log.warn('command event without an id: ignored');
    else if (this.#jobs.has(id)) this.#log.debug({ id }, 'command already in progress');
    else if (seen) this.#answers.replay(id, seen, url);
    else if (!parsed.ok) {
      this.#log.warn({ id, problems: parsed.problems }, 'invalid command');
      const answer = failure('unsupported', `invalid command: ${parsed.problems.join('; ')}`);
      this.#answers.answer(id, 'invalid', answer, Date.now() + NO_DEADLINE_MS, url);
    } else {
      const command = parsed.value;
      const deadline = Date.parse(command.deadline);
      const refusal = this.#refusal(command, deadline);
      if (!refusal)
        return { command, url, deadline, controller: new AbortController(), started: false };
      this.#answers.answer(id, 'result', refusal, deadline, url);
    }
    return undefined;
  }

  /** Why a valid new command is answered without running, if it is. */
  #refusal(command: Command, deadline: number): CommandResult | undefined {
    if (deadline <= Date.now()) {
      return failure('timeout', `deadline ${command.deadline} passed before the command arrived`);
    }
    const accepted = this.#jobs.size;
    if (accepted >= (this.o.maxAccepted ?? 1000)) {
      return failure('refused', `agent busy: ${accepted} commands in progress`);
    }
    return undefined;
  }

  /** A `cancel` event: abort the command if it runs, and never start or answer it. */
  cancel(data: string): void {
    const cancel = parseJson(cancelEventSchema, data);
    if (!cancel) return void this.#log.warn('cancel event has an unexpected shape');
    const job = this.#jobs.get(cancel.id);
    const running = job?.started ?? false;
    this.#log.info(
      { id: cancel.id, reason: cancel.reason, running },
      'command cancelled by the hub',
    );
    if (job) this.#stop(job, 'cancelled');
    // Remembered even when unknown: a late copy from another stream must not start.
    else if (!this.#answers.seen(cancel.id)) {
      this.#answers.remember(cancel.id, 'cancelled', Date.now() + NO_DEADLINE_MS);
    }
  }

  /** Ids accepted and not finished (running or queued): the hub extends their leases. */
  inFlight(): string[] {
    return [...this.#jobs.keys()];
  }

  /** Heartbeat answer: commands sent but not `held` were moved elsewhere: abort them unanswered. */
  applyHeld(sent: readonly string[], held: readonly string[]): void {
    const keep = new Set(held);
    for (const id of sent) {
      const job = this.#jobs.get(id);
      if (keep.has(id) || !job) continue;
      this.#log.warn({ id }, 'the hub took the command away: aborting it, its result is not sent');
      this.#stop(job, 'taken');
    }
  }

  /**
   * Shutdown: accept nothing more, drop queued commands (the hub re-leases them), let running
   * ones finish and their results be posted for up to `graceMs`, then abort what is left.
   */
  async drain(graceMs: number): Promise<void> {
    this.#accepting = false;
    for (const job of [...this.#queue]) this.#stop(job, 'shutdown');
    const settled = async () => {
      await this.#runs.settled();
      await this.#answers.settled();
      return 'settled' as const;
    };
    const timer = new Promise<'timeout'>((r) => setTimeout(r, graceMs, 'timeout').unref());
    if ((await Promise.race([settled(), timer])) === 'settled') return;
    for (const job of this.#jobs.values()) {
      this.#log.warn({ id: job.command.id }, 'still running at shutdown: aborted, result not sent');
      this.#stop(job, 'shutdown');
    }
    this.#answers.abort();
    await settled();
  }

  #pump(): void {
    while (this.#running < (this.o.concurrency ?? 8)) {
      const job = this.#queue.shift();
      if (!job) return;
      this.#runs.add(this.#run(job));
    }
  }

  async #run(job: Job): Promise<void> {
    const { command, controller } = job;
    job.started = true;
    this.#running++;
    const started = Date.now();
    const cancelTimer = atTime(job.deadline, () => controller.abort());
    const result = await runUntilAborted(this.o.connectors, command, controller.signal, this.#log);
    cancelTimer();
    this.#running--;
    this.#jobs.delete(command.id);
    if (!job.stopped) {
      const code = result.ok ? undefined : result.error.code;
      const ms = Date.now() - started;
      this.#log.info({ id: command.id, ok: result.ok, code, ms }, 'command finished');
      this.#answers.answer(command.id, 'result', result, job.deadline, job.url);
    } else if (job.stopped !== 'shutdown') {
      // Not at shutdown: the process is ending, there is nothing to remember it for.
      this.#answers.remember(command.id, job.stopped, job.deadline);
    }
    this.#pump();
  }

  #stop(job: Job, reason: StopReason): void {
    if (job.stopped) return;
    job.stopped = reason;
    job.controller.abort();
    if (job.started) return; // #run records it when the connector returns
    this.#queue.splice(this.#queue.indexOf(job), 1);
    this.#jobs.delete(job.command.id);
    if (reason !== 'shutdown') this.#answers.remember(job.command.id, reason, job.deadline);
  }
}
