/**
 * A small hub for the runner's tests: node:http(s) on 127.0.0.1:0 speaking the agent protocol
 * (stream, heartbeat, result) and recording every request. Tests steer it through its fields.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type CommandInput,
  formatSse,
  formatSseEvent,
  formatSseHeartbeat,
  HEARTBEAT_PATH,
  STREAM_PATH,
} from '../../protocol.ts';

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
  /** SHA-256 fingerprint of the client certificate, when one was presented. */
  peer?: string;
}

export interface FakeHubOptions {
  tls?: https.ServerOptions;
  /** Sent in hello (default 1000). */
  heartbeatMs?: number;
  /** Interval of `: heartbeat` comments; none when undefined. */
  commentEveryMs?: number;
}

export class FakeHub extends EventEmitter {
  url = '';
  readonly requests: Recorded[] = [];
  readonly open = new Set<http.ServerResponse>();
  /** When set, stream requests are refused with this. */
  refuse?: { status: number; body: unknown };
  /** Status for the n-th (1-based) result post of a command. */
  resultStatus: (id: string, n: number) => number = () => 200;
  /** `held` of the heartbeat answer. */
  held: (inFlight: string[]) => string[] = (ids) => ids;
  commentsSent = 0;
  #server!: http.Server;

  private constructor(private readonly opts: FakeHubOptions) {
    super();
  }

  static async start(opts: FakeHubOptions = {}): Promise<FakeHub> {
    const hub = new FakeHub(opts);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => hub.#handle(req, res);
    hub.#server = opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler);
    await new Promise<void>((r) => hub.#server.listen(0, '127.0.0.1', r));
    const { port } = hub.#server.address() as AddressInfo;
    hub.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return hub;
  }

  streams(): Recorded[] {
    return this.requests.filter((r) => r.path === STREAM_PATH);
  }
  heartbeats(): Recorded[] {
    return this.requests.filter((r) => r.path === HEARTBEAT_PATH);
  }
  results(id?: string): Recorded[] {
    return this.requests.filter((r) => r.path.endsWith('/result') && (!id || r.path.includes(id)));
  }

  send(text: string): void {
    for (const res of this.open) res.write(text);
  }
  command(command: CommandInput): void {
    this.send(formatSseEvent(command));
  }
  cancel(id: string, reason = 'cancelled by test'): void {
    this.send(formatSse({ event: 'cancel', data: JSON.stringify({ id, reason }) }));
  }
  /** Cuts every open stream (as a crashed replica or a proxy would). */
  dropStreams(): void {
    for (const res of this.open) res.socket?.destroy();
  }

  async close(): Promise<void> {
    this.dropStreams();
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      const cert = (req.socket as TLSSocket).getPeerCertificate?.();
      const peer = cert?.fingerprint256 || undefined;
      const rec = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
        peer,
      };
      this.requests.push(rec);
      if (rec.path === STREAM_PATH) this.#stream(res);
      else if (rec.path === HEARTBEAT_PATH)
        this.#json(res, 200, { held: this.held(JSON.parse(body).inFlight) });
      else if (rec.path.endsWith('/result')) {
        const id = rec.path.split('/')[4] ?? '';
        this.#json(res, this.resultStatus(id, this.results(id).length), {});
      } else this.#json(res, 404, { error: { code: 'not_found', message: 'no such route' } });
      this.emit('request', rec);
    });
  }

  #stream(res: http.ServerResponse): void {
    if (this.refuse) {
      this.#json(res, this.refuse.status, this.refuse.body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const hello = {
      protocolVersion: 1,
      agentId: '6f1c1a52-3c55-4d4e-9d43-1a2b3c4d5e6f',
      agentName: 'test-agent',
      replica: 'fake',
      heartbeatMs: this.opts.heartbeatMs ?? 1000,
    };
    res.write(formatSse({ event: 'hello', data: JSON.stringify(hello) }));
    this.open.add(res);
    const timer = this.opts.commentEveryMs
      ? setInterval(() => {
          res.write(formatSseHeartbeat());
          this.commentsSent++;
        }, this.opts.commentEveryMs)
      : undefined;
    res.on('close', () => {
      clearInterval(timer);
      this.open.delete(res);
      this.emit('streamClosed');
    });
  }

  #json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
