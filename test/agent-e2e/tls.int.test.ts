/**
 * The hub serving HTTPS and an agent process authenticating with a client certificate
 * registered by fingerprint (PEM and PKCS#12), verifying the hub with its trustStore — and
 * refusing the hub when it has none.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOfPem } from '../../agent/gateway/credentials.ts';
import { createTestDataSource, registerTestAgent } from '../../agent/gateway/test-helpers.ts';
import { makePki, type Pki } from '../../agent/runner/testing/certs.ts';
import { loadConfig } from '../../api/config.ts';
import { createHarness, type TestTenant } from '../harness.ts';
import {
  type HubProcess,
  startAgentProcess,
  startHubProcess,
  type TestProcess,
} from '../processes.ts';
import { HEARTBEAT_MS, hubEnv, tempDir, writeAgentConfig } from './setup.ts';

const h = createHarness({ agents: { ...loadConfig({}).agents, heartbeatMs: HEARTBEAT_MS } });
let dir: string;
let pki: Pki;
let hub: HubProcess;
let tenant: TestTenant;
let agentId: string;
let dsId: string;
const started: TestProcess[] = [];

beforeAll(async () => {
  dir = await tempDir('idhub-agent-tls-');
  pki = makePki(
    await fs.mkdir(path.join(dir, 'pki'), { recursive: true }).then(() => path.join(dir, 'pki')),
  );
  hub = await startHubProcess(
    hubEnv(dir, {
      IDHUB_TLS_CERT: pki.serverCert,
      IDHUB_TLS_KEY: pki.serverKey,
      IDHUB_TLS_CLIENT_CA: pki.caPem,
    }),
  );
  tenant = await h.tenant();
  const fingerprint = fingerprintOfPem(await fs.readFile(pki.clientCert, 'utf8'));
  agentId = (await registerTestAgent(h, tenant.tenantId, { certFingerprint: fingerprint })).id;
  dsId = (await createTestDataSource(h, tenant.tenantId, { name: 'corp-ldap' })).id;
}, 120_000);

afterAll(async () => {
  for (const p of started) await p.stop();
  await hub?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function agent(auth: Record<string, string>): Promise<TestProcess> {
  const config = await writeAgentConfig(dir, { urls: [hub.url], tenantId: tenant.tenantId, auth });
  const p = startAgentProcess(config);
  started.push(p);
  return p;
}

describe('agent over HTTPS with a client certificate', () => {
  it('serves HTTPS', () => {
    expect(hub.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a hub whose certificate it cannot verify without a trustStore', async () => {
    const a = await agent({
      certFile: pki.clientCert,
      keyFile: pki.clientKeyEncrypted,
      keyStorePassword: pki.keyPassphrase,
    });
    await a.waitFor(/certificate|self[- ]signed|unable to (verify|get)/i);
    expect(a.output()).not.toMatch(/connected to the hub/);
    await a.stop();
  });

  it('connects with a PEM certificate and key, and runs commands', async () => {
    const a = await agent({
      certFile: pki.clientCert,
      keyFile: pki.clientKeyEncrypted,
      keyStorePassword: pki.keyPassphrase,
      trustStore: pki.caPem,
    });
    await a.waitFor(/connected to the hub/);
    const ping = await h.services.gateway.call(tenant.tenantId, dsId, 'ping', {});
    expect(ping.protocolVersion).toBe(1);
    await a.stop();
  });

  it('connects with a PKCS#12 key store and a PKCS#12 trust store', async () => {
    const a = await agent({
      keyStore: pki.clientP12,
      keyStorePassword: pki.keyStorePassword,
      trustStore: pki.trustP12,
      trustStorePassword: pki.trustStorePassword,
    });
    await a.waitFor(/connected to the hub/);
    const status = (await h.services.gateway.status(tenant.tenantId, [agentId])).get(agentId);
    expect(status?.connected).toBe(true);
    await a.stop();
  });

  it('refuses a certificate of another CA even when its fingerprint is registered', async () => {
    const other = makePki(await fs.mkdtemp(path.join(dir, 'other-')));
    const otherPem = await fs.readFile(other.clientCert, 'utf8');
    await registerTestAgent(h, tenant.tenantId, { certFingerprint: fingerprintOfPem(otherPem) });
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(`${hub.url}/agent/v1/stream`, {
        ca: readFileSync(pki.caPem),
        cert: otherPem,
        key: readFileSync(path.join(other.dir, 'client.key')),
        headers: { 'idhub-tenant': tenant.tenantId },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(401);
  });
});
