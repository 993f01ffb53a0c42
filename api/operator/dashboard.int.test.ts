import { describe, expect, it } from 'vitest';
import { createHarness, OPERATOR_TOKEN } from '../../test/harness.ts';

const h = createHarness();
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const asOperator = { Authorization: basic('operator', OPERATOR_TOKEN) };

describe('queue dashboard /admin/queues', () => {
  it('challenges a request without credentials with HTTP Basic', async () => {
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/api/queues']) {
      const res = await h.request('GET', path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        'Basic realm="idhub operator", charset="UTF-8"',
      );
      expect(res.body.error).toMatchObject({ code: 'unauthorized' });
      expect(res.body.error.requestId).toBe(res.headers.get('x-request-id'));
    }
  });

  it('refuses wrong credentials and tenant tokens', async () => {
    const t = await h.tenant();
    const refused = [
      basic('operator', 'wrong-token-wrong-token-wrong'),
      basic('admin', OPERATOR_TOKEN),
      basic('operator', t.adminToken),
      basic('operator', ''),
      `Bearer ${t.adminToken}`,
      // The dashboard is for browsers: Basic only, even with the operator token.
      `Bearer ${OPERATOR_TOKEN}`,
      'Basic !!!not-base64',
    ];
    for (const Authorization of refused) {
      const res = await h.request('GET', '/admin/queues', { headers: { Authorization } });
      expect(res.status, Authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="idhub operator"/);
    }
  });

  it('serves the UI, its static assets and its API to the operator', async () => {
    const page = await h.request('GET', '/admin/queues', { headers: asOperator });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toContain('<base href="/admin/queues/" />');
    const assets = [...page.text.matchAll(/(?:src|href)="(static\/[^"]+)"/g)];
    expect(assets.length).toBeGreaterThan(0);
    for (const [, asset] of assets) {
      const res = await h.app.request(`http://hub.test/admin/queues/${asset}`, {
        headers: asOperator,
      });
      expect(res.status, asset).toBe(200);
      await res.arrayBuffer();
      const anon = await h.app.request(`http://hub.test/admin/queues/${asset}`);
      expect(anon.status, asset).toBe(401);
    }
    const api = await h.request('GET', '/admin/queues/api/queues', { headers: asOperator });
    expect(api.status).toBe(200);
    const names = (api.body.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(['directory-sync', 'outbox-relay', 'push']);
  });
});
