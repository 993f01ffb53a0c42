/**
 * One hub URL's HTTP client: a keep-alive node:http(s) Agent carrying the TLS options (global
 * fetch can carry neither a client certificate nor a custom CA) and the protocol headers.
 */
import http from 'node:http';
import https from 'node:https';
import type { AgentAuth } from '../config/index.ts';
import {
  AGENT_VERSION_HEADER,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  STREAM_PATH,
  TENANT_HEADER,
} from '../protocol.ts';
import type { HubTlsOptions } from './tls.ts';

export interface HubClientOptions {
  tenantId: string;
  auth: AgentAuth;
  tls: HubTlsOptions;
  agentVersion: string;
}

export interface HubResponse {
  status: number;
  body: string;
}

/** Bodies of non-stream answers are small JSON; anything longer is cut (it is only logged). */
const MAX_BODY = 64 * 1024;

export class HubClient {
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  constructor(
    readonly url: string,
    private readonly opts: HubClientOptions,
  ) {
    const secure = url.startsWith('https:');
    this.#agent = secure
      ? new https.Agent({ keepAlive: true, ...opts.tls })
      : new http.Agent({ keepAlive: true });
    this.#request = secure ? https.request : http.request;
  }

  /** The headers every call carries; Authorization only with basic auth (a certificate wins). */
  headers(): Record<string, string> {
    const h: Record<string, string> = {
      [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
      [TENANT_HEADER]: this.opts.tenantId,
      [AGENT_VERSION_HEADER]: this.opts.agentVersion,
    };
    const { auth } = this.opts;
    if (auth.kind === 'basic') {
      const pair = `${auth.userName}:${auth.password.reveal()}`;
      h.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
    }
    return h;
  }

  /** Opens the SSE stream; resolves with the response as soon as its headers arrive. */
  openStream(lastEventId: string, signal: AbortSignal): Promise<http.IncomingMessage> {
    const headers = { ...this.headers(), accept: 'text/event-stream', 'cache-control': 'no-cache' };
    if (lastEventId) Object.assign(headers, { 'last-event-id': lastEventId });
    return new Promise((resolve, reject) => {
      const req = this.#request(this.url + STREAM_PATH, {
        method: 'GET',
        agent: this.#agent,
        headers,
        signal,
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end();
    });
  }

  /** POSTs JSON and reads the (small) answer. Rejects on network errors and on `timeoutMs`. */
  postJson(
    path: string,
    body: string,
    signal: AbortSignal,
    timeoutMs = 30_000,
  ): Promise<HubResponse> {
    const headers = {
      ...this.headers(),
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    };
    const { signal: linked, dispose } = linkAbort(signal, timeoutMs);
    return new Promise<HubResponse>((resolve, reject) => {
      const req = this.#request(this.url + path, {
        method: 'POST',
        agent: this.#agent,
        headers,
        signal: linked,
      });
      req.once('error', reject);
      req.once('response', (res) => {
        readBody(res).then((text) => resolve({ status: res.statusCode ?? 0, body: text }), reject);
      });
      req.end(body);
    }).finally(dispose);
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * A signal that aborts with `parent` or after `timeoutMs`; dispose() unhooks it from the
 * long-lived parent (AbortSignal.any would keep one dependent per call registered on it).
 */
function linkAbort(
  parent: AbortSignal,
  timeoutMs: number,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const timer = setTimeout(
    () => controller.abort(new Error(`no answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  if (parent.aborted) abort();
  else parent.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', abort);
    },
  };
}

/** Reads a non-stream answer body, keeping at most MAX_BODY characters. */
export function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < MAX_BODY) text += chunk.slice(0, MAX_BODY - text.length);
    });
    res.once('end', () => resolve(text));
    res.once('error', reject);
    // After 'end' this is a no-op; without it a reset connection would leave the promise hanging.
    res.once('close', () => reject(new Error('connection closed before the answer ended')));
  });
}

/** `{error:{code,message}}` from the hub, or the raw text when it is not that shape. */
export function hubError(body: string): { code?: string; message: string } {
  try {
    const parsed: unknown = JSON.parse(body);
    const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
    if (error && typeof error.message === 'string') {
      return {
        code: typeof error.code === 'string' ? error.code : undefined,
        message: error.message,
      };
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: body.slice(0, 500) };
}
