import { describe, expect, it } from 'vitest';
import { createHarness, OPERATOR_TOKEN } from '../../test/harness.ts';
import { checkedClient, PATCH_OP, USER } from '../../test/scim-helpers.ts';

const h = createHarness();
const asOperator = {
  Authorization: `Basic ${Buffer.from(`operator:${OPERATOR_TOKEN}`).toString('base64')}`,
};

async function scrape(headers: Record<string, string> = asOperator): Promise<string> {
  const res = await h.request('GET', '/metrics', { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

describe('/metrics', () => {
  it('needs operator credentials (Basic, or Bearer for scrapers); tenant tokens are refused', async () => {
    const t = await h.tenant();
    const anon = await h.request('GET', '/metrics');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="idhub operator"/);
    for (const token of [t.adminToken, t.scimToken]) {
      expect((await h.request('GET', '/metrics', { token })).status).toBe(401);
    }
    await scrape({ Authorization: `Bearer ${OPERATOR_TOKEN}` });
  });

  it('counts HTTP requests and SCIM operations by route pattern, never by raw path', async () => {
    const t = await h.tenant();
    const scim = checkedClient(h, t.scimToken);
    const created = await scim.post('/Users', {
      schemas: [USER],
      userName: `m-${Date.now()}@x.io`,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await scim.get(`/Users/${id}`)).status).toBe(200);
    expect((await scim.get('/users?filter=userName%20eq%20%22nobody%22')).status).toBe(200);
    const patch = {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    };
    expect((await scim.patch(`/Users/${id}`, patch)).status).toBeLessThan(300);
    expect((await scim.get(`/Users/${crypto.randomUUID()}`)).status).toBe(404);
    await h.request('GET', `/no/such/${id}`);

    const text = await scrape();
    expect(text).not.toContain(id);
    expect(text).toMatch(
      /idhub_http_requests_total\{method="POST",route="\/scim\/v2\/users",status="201"\} [1-9]/,
    );
    expect(text).toMatch(
      /idhub_http_requests_total\{method="GET",route="\/scim\/v2\/users\/:id",status="404"\} [1-9]/,
    );
    expect(text).toMatch(
      /idhub_http_requests_total\{method="GET",route="\(unmatched\)",status="404"\}/,
    );
    expect(text).toMatch(
      /idhub_http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/scim\/v2\/users\/:id"\}/,
    );
    for (const [op, outcome] of [
      ['create', 'success'],
      ['get', 'success'],
      ['get', 'client_error'],
      ['list', 'success'],
      ['patch', 'success'],
    ]) {
      expect(text).toMatch(
        new RegExp(
          `idhub_scim_operations_total\\{resource_type="User",operation="${op}",outcome="${outcome}"\\} [1-9]`,
        ),
      );
    }
    expect(text).not.toMatch(/\{[^}]*tenant[^}]*\}/);
  });

  it('reports queue depths, database connections and process metrics', async () => {
    const text = await scrape();
    for (const queue of ['directory-sync', 'push', 'outbox-relay']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        expect(text).toContain(`idhub_queue_jobs{queue="${queue}",state="${state}"}`);
      }
    }
    expect(text).toContain('idhub_db_pool_max 5');
    expect(text).toMatch(/idhub_db_connections\{state="active"\} [1-9]/);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('keeps one registry per app', async () => {
    const other = createHarness({ metricsPublic: true });
    const res = await other.app.request('http://hub.test/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('route="/scim/v2/users/:id"');
  });
});
