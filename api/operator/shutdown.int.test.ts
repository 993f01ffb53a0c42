import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { OPERATOR_TOKEN } from '../../test/harness.ts';
import { loadConfig } from '../config.ts';
import { startHub } from '../server.ts';

const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('graceful shutdown with the operator surfaces in use', () => {
  it('closes the queues and every other connection it opened', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'idhub-shutdown-'));
    const config = {
      ...loadConfig({
        LOG_LEVEL: 'silent',
        PORT: '0',
        IDHUB_SHUTDOWN_TIMEOUT_MS: '2000',
        // Its own queues: its sync worker must not take another test file's runs.
        IDHUB_QUEUE_PREFIX: `{idhub-shutdown-${process.pid}}`,
      }),
      databaseUrl: inject('databaseUrl'),
      redisUrl: inject('redisUrl'),
      dataDir,
      operatorToken: OPERATOR_TOKEN,
    };
    const before = sockets();
    const hub = await startHub(config, pino({ level: 'silent' }));
    const auth = `Basic ${Buffer.from(`operator:${OPERATOR_TOKEN}`).toString('base64')}`;
    const api = await fetch(`${hub.url}/admin/queues/api/queues`, {
      headers: { Authorization: auth },
    });
    expect(api.status).toBe(200);
    expect((await api.json()).queues).toHaveLength(3);
    const metrics = await fetch(`${hub.url}/metrics`, { headers: { Authorization: auth } });
    expect(await metrics.text()).toContain('idhub_queue_jobs{queue="push",state="waiting"} 0');
    expect(sockets()).toBeGreaterThan(before);

    await hub.close();
    const until = Date.now() + 5000;
    while (sockets() > before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(sockets()).toBe(before);
    await fs.rm(dataDir, { recursive: true, force: true });
  });
});
