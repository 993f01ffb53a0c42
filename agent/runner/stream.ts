/**
 * One hub URL's Server-Sent Events stream: connect, read events as they arrive, detect a dead
 * stream, and reconnect with backoff — forever, until stop(). Commands and cancels go to the
 * executor; the stream itself never runs anything.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import { helloEventSchema, PROTOCOL_VERSION, type SseMessage, SseParser } from '../protocol.ts';
import { Backoff, type DelayPolicy, sleep } from './backoff.ts';
import { type HubClient, hubError, readBody } from './http.ts';

export interface StreamEvents {
  command(event: { id: string; data: string }, url: string): void;
  cancel(data: string, url: string): void;
}

export interface HubStreamOptions {
  client: HubClient;
  /** The stream is dead after 2 × this with no bytes at all. */
  keepAliveMs: number;
  reconnect: DelayPolicy;
  logger: Logger;
  events: StreamEvents;
  random?: () => number;
}

export interface StreamStatus {
  url: string;
  connected: boolean;
  lastEventAt: string | null;
}

/** ended: the stream closed or went dead; failed: no stream; refused: 401/403/409. */
type Outcome = 'ended' | 'failed' | 'refused';

const REFUSALS: Record<number, string> = {
  401: 'the hub rejected the agent credentials',
  403: 'the agent is revoked or not registered for this tenant',
  409: 'the hub speaks another protocol version',
};

export class HubStream {
  #connected = false;
  #lastEventAt: Date | null = null;
  #lastEventId = '';
  #deadMs: number;
  readonly #stop = new AbortController();
  readonly #backoff: Backoff;
  readonly #log: Logger;
  #loop: Promise<void> = Promise.resolve();

  constructor(private readonly o: HubStreamOptions) {
    this.#deadMs = 2 * o.keepAliveMs;
    this.#backoff = new Backoff(o.reconnect, o.random);
    this.#log = o.logger.child({ hub: o.client.url });
  }

  get url(): string {
    return this.o.client.url;
  }

  get connected(): boolean {
    return this.#connected;
  }

  status(): StreamStatus {
    const lastEventAt = this.#lastEventAt?.toISOString() ?? null;
    return { url: this.url, connected: this.#connected, lastEventAt };
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Closes the stream and ends the reconnect loop. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      const outcome = await this.#connectOnce();
      this.#connected = false;
      if (this.#stop.signal.aborted) return;
      // A refusal will not heal in seconds: retry at the cap instead of hammering the hub.
      const delayMs = outcome === 'refused' ? this.#backoff.max() : this.#backoff.next();
      this.#log.info({ delayMs }, 'reconnecting to the hub');
      await sleep(delayMs, this.#stop.signal);
    }
  }

  async #connectOnce(): Promise<Outcome> {
    const attempt = new AbortController();
    let watchdog: NodeJS.Timeout | undefined;
    // Covers the connect phase too: a hub that accepts TCP and never answers is dead as well.
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        this.#log.warn({ afterMs: this.#deadMs }, 'no bytes from the hub: dropping the stream');
        attempt.abort();
      }, this.#deadMs);
    };
    arm();
    const onStop = () => attempt.abort();
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      const res = await this.o.client.openStream(this.#lastEventId, attempt.signal);
      if (res.statusCode !== 200) return await this.#refused(res);
      if (!String(res.headers['content-type']).startsWith('text/event-stream')) {
        this.#log.error(
          { contentType: res.headers['content-type'] },
          'not an event stream: is this URL the hub?',
        );
        res.destroy();
        return 'failed';
      }
      this.#connected = true;
      this.#log.debug('stream open');
      return await this.#read(res, arm);
    } catch (e) {
      if (!this.#stop.signal.aborted && !attempt.signal.aborted) {
        const err = e as NodeJS.ErrnoException;
        this.#log.warn({ code: err.code }, `cannot reach the hub: ${err.message}`);
      }
      return 'failed';
    } finally {
      clearTimeout(watchdog);
      this.#stop.signal.removeEventListener('abort', onStop);
    }
  }

  /** Reads the stream until it closes; every chunk (heartbeat comments too) re-arms the watchdog. */
  #read(res: http.IncomingMessage, arm: () => void): Promise<Outcome> {
    const parser = new SseParser();
    parser.lastEventId = this.#lastEventId; // ids persist across reconnects, as in EventSource
    return new Promise((resolve) => {
      res.on('data', (chunk: Buffer) => {
        arm();
        for (const msg of parser.push(chunk)) {
          this.#lastEventId = parser.lastEventId;
          this.#dispatch(msg);
        }
      });
      res.on('error', (err) => this.#log.debug({ err: err.message }, 'stream error'));
      res.once('close', () => resolve('ended'));
    });
  }

  #dispatch(msg: SseMessage): void {
    this.#lastEventAt = new Date();
    // Comments only keep the watchdog fed; a `retry:` hint is ignored: our backoff rules.
    if (msg.type !== 'event') return;
    try {
      if (msg.event === 'hello') this.#hello(msg.data);
      else if (msg.event === 'command') this.o.events.command(msg, this.url);
      else if (msg.event === 'cancel') this.o.events.cancel(msg.data, this.url);
      else this.#log.debug({ event: msg.event }, 'ignoring an unknown event');
    } catch (err) {
      this.#log.error({ err }, 'event handler failed');
    }
  }

  #hello(data: string): void {
    let parsed: ReturnType<typeof helloEventSchema.safeParse>;
    try {
      parsed = helloEventSchema.safeParse(JSON.parse(data));
    } catch {
      this.#log.warn('hello event is not JSON');
      return;
    }
    if (!parsed.success) {
      this.#log.warn(
        { problems: parsed.error.issues.length },
        'hello event has an unexpected shape',
      );
      return;
    }
    const hello = parsed.data;
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      this.#log.error(
        { hub: hello.protocolVersion, agent: PROTOCOL_VERSION },
        'protocol version mismatch',
      );
    }
    // Trust the hub's own interval when it is longer than ours, so we never drop a live stream.
    this.#deadMs = 2 * Math.max(this.o.keepAliveMs, hello.heartbeatMs);
    this.#backoff.reset();
    const { agentId, agentName, replica } = hello;
    this.#log.info({ agentId, agentName, replica }, 'connected to the hub');
  }

  async #refused(res: http.IncomingMessage): Promise<Outcome> {
    const status = res.statusCode ?? 0;
    const { code, message } = hubError(await readBody(res).catch(() => ''));
    const why = REFUSALS[status];
    this.#log.error(
      { status, code },
      `hub refused the stream: ${message}${why ? ` (${why})` : ''}`,
    );
    return why ? 'refused' : 'failed';
  }
}
