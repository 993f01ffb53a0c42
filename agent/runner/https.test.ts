import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../test/until.ts';
import { type AgentConfig, AgentConfigError, Secret } from '../config/index.ts';
import { startAgent } from './agent.ts';
import { makePki, type Pki } from './testing/certs.ts';
import { FakeHub } from './testing/fake-hub.ts';
import { captureLogs, fakeConnectors, ping, pong, testConfig } from './testing/fixtures.ts';

let pki: Pki;
let hub: FakeHub;
let clientFingerprint: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  pki = makePki(fs.mkdtempSync(path.join(os.tmpdir(), 'idhub-agent-tls-')));
  clientFingerprint = new X509Certificate(fs.readFileSync(pki.clientCert)).fingerprint256;
  hub = await FakeHub.start({
    tls: {
      key: fs.readFileSync(pki.serverKey),
      cert: fs.readFileSync(pki.serverCert),
      ca: fs.readFileSync(pki.caPem),
      requestCert: true,
      rejectUnauthorized: false, // the test looks at what was presented
    },
  });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  hub.requests.length = 0;
});
afterAll(async () => {
  await hub.close();
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

async function connect(over: Partial<AgentConfig>) {
  const logs = captureLogs();
  const agent = await startAgent(testConfig([hub.url], over), {
    logger: logs.logger,
    connectors: fakeConnectors(() => pong).set,
    version: '1',
  });
  cleanups.push(() => agent.close());
  return logs;
}

const pemTrust = () => ({ trustStore: { kind: 'pem' as const, path: pki.caPem } });

describe('agent over https', () => {
  it('refuses a hub whose certificate it cannot verify (no trustStore)', async () => {
    const logs = await connect({});
    await until(() => logs.text().includes('cannot reach the hub'), 'the TLS failure');
    expect(logs.text()).toMatch(/self-signed certificate|unable to (get|verify)/);
    expect(hub.requests).toHaveLength(0);
  });

  it('connects with a PEM trustStore, sending basic credentials', async () => {
    await connect(pemTrust());
    const [stream] = await until(() => hub.streams().length && hub.streams(), 'the stream');
    expect(stream?.headers.authorization).toMatch(/^Basic /);
    expect(stream?.peer).toBeUndefined();
  });

  it('connects with a PKCS#12 trustStore', async () => {
    const trustStore = {
      kind: 'pkcs12' as const,
      path: pki.trustP12,
      password: new Secret(pki.trustStorePassword),
    };
    await connect({ trustStore });
    await until(() => hub.streams().length, 'the stream');
  });

  it('presents a PEM client certificate (encrypted key) and sends no Authorization', async () => {
    const auth = {
      kind: 'pem' as const,
      certFile: pki.clientCert,
      keyFile: pki.clientKeyEncrypted,
      passphrase: new Secret(pki.keyPassphrase),
    };
    await connect({ ...pemTrust(), auth });
    const [stream] = await until(() => hub.streams().length && hub.streams(), 'the stream');
    expect(stream?.peer).toBe(clientFingerprint);
    expect(stream?.headers.authorization).toBeUndefined();
    const cmd = ping();
    hub.command(cmd);
    const [result] = await until(
      () => hub.results(cmd.id).length && hub.results(cmd.id),
      'the result',
    );
    expect(result?.peer).toBe(clientFingerprint);
  });

  it('presents a PKCS#12 client certificate', async () => {
    const auth = {
      kind: 'pkcs12' as const,
      keyStore: pki.clientP12,
      passphrase: new Secret(pki.keyStorePassword),
    };
    await connect({ ...pemTrust(), auth });
    const [stream] = await until(() => hub.streams().length && hub.streams(), 'the stream');
    expect(stream?.peer).toBe(clientFingerprint);
    expect(stream?.headers.authorization).toBeUndefined();
  });

  it('stops at start with a readable error when a store password is wrong', async () => {
    const start = (over: Partial<AgentConfig>) =>
      startAgent(testConfig([hub.url], over), {
        logger: captureLogs().logger,
        connectors: fakeConnectors().set,
        version: '1',
      });
    const wrong = new Secret('Wr0ng-Pa55');
    const keyStore = start({
      auth: { kind: 'pkcs12', keyStore: pki.clientP12, passphrase: wrong },
    });
    await expect(keyStore).rejects.toThrow(AgentConfigError);
    await expect(keyStore).rejects.toThrow(/keyStore: cannot load the client certificate/);
    await expect(keyStore).rejects.not.toThrow(/Wr0ng/);
    const trust = start({ trustStore: { kind: 'pkcs12', path: pki.trustP12, password: wrong } });
    await expect(trust).rejects.toThrow(/trustStore: integrity check failed \(wrong password/);
  });
});
