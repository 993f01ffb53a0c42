/**
 * Client certificates forwarded by a TLS-terminating proxy (IDHUB_AGENT_CERT_HEADER): the
 * header is trusted only when configured, and only a registered certificate gets in.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.ts';
import { createHarness } from '../../test/harness.ts';
import { STREAM_PATH } from '../protocol.ts';
import { fingerprintOfPem } from './credentials.ts';
import { selfSignedPem } from './test-certificate.ts';
import { registerTestAgent, sseEvents } from './test-helpers.ts';

const HEADER = 'x-client-cert';
const behindProxy = createHarness({ agents: { ...loadConfig({}).agents, certHeader: HEADER } });
const direct = createHarness();

const stream = (h: typeof direct, tenantId: string, pem?: string) =>
  h.app.request(`http://hub.test${STREAM_PATH}`, {
    headers: { 'idhub-tenant': tenantId, ...(pem ? { [HEADER]: encodeURIComponent(pem) } : {}) },
  });

describe('agent certificates from a TLS-terminating proxy', () => {
  it('accepts the registered certificate forwarded in the configured header', async () => {
    const t = await behindProxy.tenant();
    const pem = await selfSignedPem('agent-proxy');
    const agent = await registerTestAgent(behindProxy, t.tenantId, {
      certFingerprint: fingerprintOfPem(pem),
    });
    const res = await stream(behindProxy, t.tenantId, pem);
    expect(res.status).toBe(200);
    const events = sseEvents(res);
    const hello = await events.next();
    expect(JSON.parse(hello?.data ?? '{}').agentId).toBe(agent.id);
    await events.close();
  });

  it('refuses an unregistered certificate and a malformed header', async () => {
    const t = await behindProxy.tenant();
    const other = await selfSignedPem('stranger');
    expect((await stream(behindProxy, t.tenantId, other)).status).toBe(401);
    const garbage = await behindProxy.app.request(`http://hub.test${STREAM_PATH}`, {
      headers: { [HEADER]: 'not-a-certificate' },
    });
    expect(garbage.status).toBe(401);
  });

  it('ignores the header when the hub is not configured to trust a proxy', async () => {
    const t = await direct.tenant();
    const pem = await selfSignedPem('agent-direct');
    await registerTestAgent(direct, t.tenantId, { certFingerprint: fingerprintOfPem(pem) });
    expect((await stream(direct, t.tenantId, pem)).status).toBe(401);
  });
});
