/**
 * How bytes move: node:http/https with a keep-alive Agent (global fetch cannot take a custom
 * CA), or a caller's fetch (tests, in-process apps). Both cap the body and honour one signal.
 */
import http from 'node:http';
import https from 'node:https';
import { ScimClientError } from './errors.ts';

export interface TransportRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  signal: AbortSignal;
}
export interface TransportResponse {
  status: number;
  header(name: string): string | null;
  body: Buffer;
}
export interface Transport {
  send(req: TransportRequest): Promise<TransportResponse>;
  close(): void;
}

/** Global fetch, or an in-process app's `request` / `fetch`. */
export type FetchLike = (url: string, init: RequestInit) => Response | Promise<Response>;

export const tooLarge = (max: number) =>
  new ScimClientError({ reason: 'too_large', detail: `response body over ${max} bytes` });

export function nodeTransport(opts: { ca?: string | Buffer; maxBodyBytes: number }): Transport {
  const agentOptions = { keepAlive: true, maxSockets: 16, ...(opts.ca ? { ca: opts.ca } : {}) };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  return {
    send: (req) =>
      new Promise((resolve, reject) => {
        const lib = req.url.protocol === 'https:' ? https : http;
        const agent = req.url.protocol === 'https:' ? httpsAgent : httpAgent;
        const headers = { ...req.headers, 'content-length': String(req.body?.length ?? 0) };
        const r = lib.request(req.url, { method: req.method, headers, agent, signal: req.signal });
        r.on('error', reject);
        r.on('response', (res) => {
          const declared = Number(res.headers['content-length'] ?? 0);
          if (declared > opts.maxBodyBytes) return r.destroy(tooLarge(opts.maxBodyBytes));
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > opts.maxBodyBytes) r.destroy(tooLarge(opts.maxBodyBytes));
            else chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const header = (n: string) => {
              const v = res.headers[n.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            };
            resolve({ status: res.statusCode ?? 0, header, body: Buffer.concat(chunks) });
          });
        });
        r.end(req.body);
      }),
    close: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

export function fetchTransport(fetchImpl: FetchLike, maxBodyBytes: number): Transport {
  return {
    async send(req) {
      const res = await fetchImpl(req.url.href, {
        method: req.method,
        headers: req.headers,
        ...(req.body ? { body: new Uint8Array(req.body) } : {}),
        signal: req.signal,
      });
      const body = await readCapped(res, maxBodyBytes);
      return { status: res.status, header: (n) => res.headers.get(n), body };
    },
    close: () => {},
  };
}

async function readCapped(res: Response, max: number): Promise<Buffer> {
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel();
    throw tooLarge(max);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  for (let r = await reader?.read(); r && !r.done; r = await reader?.read()) {
    size += r.value.length;
    if (size > max) {
      await reader?.cancel();
      throw tooLarge(max);
    }
    chunks.push(r.value);
  }
  return Buffer.concat(chunks);
}
