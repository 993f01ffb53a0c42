/** `GET /healthz` on a loopback port, for local monitoring: 200 ok, 503 when no stream is up. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamStatus } from './stream.ts';

export interface AgentStatus {
  status: 'ok' | 'degraded';
  streams: StreamStatus[];
  inFlight: number;
}

export interface Healthz {
  port: number;
  close(): Promise<void>;
}

export function startHealthz(
  address: { host: string; port: number },
  status: () => AgentStatus,
): Promise<Healthz> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/healthz') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const body = status();
    res.writeHead(body.status === 'ok' ? 200 : 503, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    res.end(JSON.stringify(body));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
