import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { createScimClient, type ScimClient, ScimClientError } from './index.ts';

const h = createHarness();
let baseUrl: string;
let token: string;
let stopHub: () => Promise<void>;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
const closeServer = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

beforeAll(async () => {
  token = (await h.tenant()).scimToken;
  const server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
  stopHub = () => closeServer(server);
});
afterAll(async () => {
  await stopHub?.();
});

async function failure(p: Promise<unknown>): Promise<ScimClientError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ScimClientError);
  return e as ScimClientError;
}

function client(over: Partial<Parameters<typeof createScimClient>[0]> = {}): ScimClient {
  return createScimClient({ baseUrl, auth: { type: 'bearer', token }, ...over });
}

describe('SCIM client against the hub', () => {
  it('creates, reads, lists, replaces, patches and deletes a user', async () => {
    const c = client();
    const created = await c.create('/Users', { schemas: [USER], userName: 'c.one', active: true });
    expect(created.id).toEqual(expect.any(String));
    const at = `/Users/${encodeURIComponent(String(created.id))}`;
    expect((await c.get(at)).userName).toBe('c.one');

    const list = await c.list('/Users', {
      filter: 'userName eq "c.one"',
      startIndex: 1,
      count: 10,
      attributes: ['userName'],
    });
    expect(list.totalResults).toBe(1);
    expect(list.Resources[0]?.userName).toBe('c.one');

    const replaced = await c.replace(at, { schemas: [USER], userName: 'c.two', displayName: 'C' });
    expect(replaced.userName).toBe('c.two');
    const patched = await c.patch(at, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Patched' }],
    });
    expect(patched?.displayName ?? (await c.get(at)).displayName).toBe('Patched');

    await c.delete(at);
    const gone = await failure(c.get(at));
    expect(gone.status).toBe(404);
    expect(gone.reason).toBe('status');
    c.close();
  });

  it('reads a SCIM error body: status, scimType and detail', async () => {
    const c = client();
    await c.create('/Users', { schemas: [USER], userName: 'dup.user' });
    const e = await failure(c.create('/Users', { schemas: [USER], userName: 'dup.user' }));
    expect(e.status).toBe(409);
    expect(e.scimType).toBe('uniqueness');
    expect(e.detail).toEqual(expect.any(String));
    const bad = await failure(c.list('/Users', { filter: 'nope eq', startIndex: 1, count: 1 }));
    expect(bad.status).toBe(400);
    expect(bad.scimType).toBe('invalidFilter');
    c.close();
  });

  it('reads discovery: schemas, resource types, service provider config', async () => {
    const c = client();
    const schemas = await c.schemas();
    expect(schemas.Resources.map((s) => s.id)).toContain(USER);
    const types = await c.resourceTypes();
    expect(types.Resources.map((t) => t.name)).toContain('User');
    expect((await c.serviceProviderConfig()).patch).toEqual({ supported: true });
    c.close();
  });

  it('maps a wrong token to 401 without echoing it', async () => {
    const c = client({ auth: { type: 'bearer', token: 'idh_wrong-token-value' } });
    const e = await failure(c.list('/Users', { startIndex: 1, count: 1 }));
    expect(e.status).toBe(401);
    expect(e.message).not.toContain('idh_wrong-token-value');
    c.close();
  });

  it('refuses paths outside the base URL before sending anything', async () => {
    const c = client();
    for (const p of ['/../../agent/v1/stream', 'http://evil.test/Users', '//evil.test/x']) {
      expect((await failure(c.get(p))).reason).toBe('refused');
    }
    c.close();
  });

  it('caps request and response bodies', async () => {
    const c = client({ maxBodyBytes: 300 });
    const big = await failure(c.create('/Users', { schemas: [USER], userName: 'x'.repeat(400) }));
    expect(big.reason).toBe('too_large');
    expect((await failure(c.schemas())).reason).toBe('too_large');
    c.close();
  });

  it('works through a caller-supplied fetch (the in-process app)', async () => {
    const c = client({ fetchImpl: (url, init) => h.app.request(url, init) });
    const list = await c.list('/Users', { startIndex: 1, count: 1 });
    expect(list.totalResults).toBeGreaterThanOrEqual(0);
    const tiny = client({ fetchImpl: (url, init) => h.app.request(url, init), maxBodyBytes: 100 });
    expect((await failure(tiny.schemas())).reason).toBe('too_large');
  });
});

describe('SCIM client transport behaviour', () => {
  let server: http.Server;
  let port: number;
  let hang: http.ServerResponse[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/v2/busy')) {
        res.writeHead(429, { 'content-type': 'application/scim+json', 'retry-after': '7' });
        res.end(JSON.stringify({ status: '429', detail: 'slow down' }));
      } else if (req.url?.startsWith('/v2/down')) {
        res.writeHead(503, { 'retry-after': 'Wed, 01 Jan 2099 00:00:00 GMT' });
        res.end('maintenance');
      } else if (req.url?.startsWith('/v2/html')) {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html></html>');
      } else if (req.url?.startsWith('/v2/echo')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ headers: req.headers }));
      } else hang.push(res);
    });
    port = await listen(server);
  });
  afterAll(async () => {
    for (const r of hang) r.destroy();
    hang = [];
    await closeServer(server);
  });

  const local = (over: Partial<Parameters<typeof createScimClient>[0]> = {}) =>
    createScimClient({
      baseUrl: `http://127.0.0.1:${port}/v2`,
      auth: { type: 'basic', userName: 'svc', password: 'pw:with:colons' },
      ...over,
    });

  it('parses Retry-After on 429 and 503', async () => {
    const c = local();
    const busy = await failure(c.get('/busy'));
    expect([busy.status, busy.retryAfterMs, busy.detail]).toEqual([429, 7000, 'slow down']);
    const down = await failure(c.get('/down'));
    expect(down.status).toBe(503);
    expect(down.retryAfterMs).toBeGreaterThan(0);
    c.close();
  });

  it('sends basic auth and SCIM content negotiation headers', async () => {
    const c = local();
    const echo = (await c.create('/echo', { a: 1 })) as { headers: Record<string, string> };
    expect(echo.headers.authorization).toBe(
      `Basic ${Buffer.from('svc:pw:with:colons').toString('base64')}`,
    );
    expect(echo.headers['content-type']).toBe('application/scim+json');
    expect(echo.headers.accept).toMatch(/^application\/scim\+json, application\/json/);
    expect(echo.headers.connection).toBe('keep-alive');
    c.close();
  });

  it('refuses a non-JSON success, times out, and honours an abort signal', async () => {
    const c = local({ timeoutMs: 200 });
    expect((await failure(c.get('/html'))).reason).toBe('bad_response');
    expect((await failure(c.get('/hang'))).reason).toBe('timeout');
    const abort = new AbortController();
    const pending = c.get('/hang', { signal: abort.signal });
    abort.abort();
    expect((await failure(pending)).reason).toBe('aborted');
    c.close();
  });
});

describe('SCIM client with a private CA', () => {
  let dir: string;
  let server: https.Server;
  let port: number;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'scim-ca-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await promisify(execFile)('openssl', [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
      ...['-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1'],
    ]);
    server = https.createServer(
      { key: await fs.readFile(key), cert: await fs.readFile(cert) },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/scim+json' });
        res.end('{"patch":{"supported":true}}');
      },
    );
    port = await listen(server);
  });
  afterAll(async () => {
    await closeServer(server);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('trusts the given CA and only it', async () => {
    const ca = await fs.readFile(path.join(dir, 'cert.pem'));
    const baseUrl = `https://127.0.0.1:${port}/scim/v2`;
    const auth = { type: 'bearer' as const, token: 't' };
    const trusted = createScimClient({ baseUrl, auth, ca });
    expect((await trusted.serviceProviderConfig()).patch).toEqual({ supported: true });
    trusted.close();
    const untrusted = createScimClient({ baseUrl, auth });
    const e = await failure(untrusted.serviceProviderConfig());
    expect(e.reason).toBe('network');
    untrusted.close();
  });
});
