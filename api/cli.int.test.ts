import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The hub as a user runs it: `idhub serve` on the embedded defaults (its own PostgreSQL and
 * redis-server under a data dir), and the CLI in a "second terminal" reaching the same database.
 */
const cli = path.resolve(import.meta.dirname, 'cli.ts');
let dataDir: string;
let hub: ChildProcess;
let hubUrl: string;
let hubLog = '';
let exited: Promise<number | null>;

const env = (extra: Record<string, string> = {}) => ({
  ...process.env,
  IDHUB_DATA_DIR: dataDir,
  PORT: '0',
  LOG_LEVEL: 'info',
  ...extra,
});

function runCli(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
    env: env(extra),
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(hubLog);
    if (m) return m;
    if (Date.now() > until) throw new Error(`hub did not log ${pattern}:\n${hubLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'idhub-cli-'));
  await fs.chmod(dataDir, 0o755);
  hub = spawn(process.execPath, ['--import', 'tsx', cli, 'serve'], {
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  hub.stdout?.on('data', (d: Buffer) => (hubLog += d));
  hub.stderr?.on('data', (d: Buffer) => (hubLog += d));
  exited = new Promise((resolve) => hub.once('exit', (code) => resolve(code)));
  hubUrl = (await waitForLog(/"url":"(http:\/\/[^"]+)"/))[1] as string;
}, 120_000);

afterAll(async () => {
  if (hub.exitCode === null) hub.kill('SIGKILL');
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('idhub CLI beside a running hub', () => {
  let tenant: { tenantId: string; scimToken: string; adminToken: string };

  it('creates a tenant and prints its tokens as JSON', () => {
    const r = runCli(['tenant', 'create', '--name', 'Acme', '--json']);
    expect(r.code, r.stderr).toBe(0);
    tenant = JSON.parse(r.stdout);
    expect(tenant.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(tenant.scimToken).toMatch(/^idh_/);
    expect(tenant.adminToken).toMatch(/^idh_/);
  });

  it('the printed SCIM token provisions a user on the running hub', async () => {
    const res = await fetch(`${hubUrl}/scim/v2/Users`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${tenant.scimToken}`,
        'Content-Type': 'application/scim+json',
      },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'ada',
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${hubUrl}/scim/v2/Users/`));
  });

  it('refuses a duplicate tenant name with exit code 2 and a readable message', () => {
    const r = runCli(['tenant', 'create', '--name', 'acme']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
  });

  it('creates a token by tenant name, and a revoked token stops working', async () => {
    const created = runCli(['token', 'create', '--tenant', 'acme', '--scope', 'scim', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { tokenId, token, scopes } = JSON.parse(created.stdout);
    expect(scopes).toEqual(['scim']);
    const get = () =>
      fetch(`${hubUrl}/scim/v2/Users`, { headers: { Authorization: `Bearer ${token}` } });
    expect((await get()).status).toBe(200);
    const revoked = runCli(['token', 'revoke', tokenId]);
    expect(revoked.code, revoked.stderr).toBe(0);
    // The hub learns of the revocation through PostgreSQL NOTIFY: poll, bounded.
    const until = Date.now() + 5000;
    let status = (await get()).status;
    while (status === 200 && Date.now() < until) status = (await get()).status;
    expect(status).toBe(401);
  });

  it('rejects an unknown scope and an unknown tenant', () => {
    expect(runCli(['token', 'create', '--tenant', 'acme', '--scope', 'root']).code).toBe(2);
    const r = runCli(['token', 'create', '--tenant', 'nope', '--scope', 'scim']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no tenant "nope"/);
  });

  it('stops on a bad configuration with a list of what is wrong', () => {
    const r = runCli(['serve'], { PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid configuration/);
    expect(r.stderr).toMatch(/PORT/);
    expect(r.stderr).toMatch(/LOG_LEVEL/);
  });

  it('says in one line how to install redis-server when it is missing', () => {
    // An empty PATH: the CLI itself runs from process.execPath, redis-server cannot be found.
    const r = runCli(['serve'], {
      PATH: path.join(dataDir, 'empty-bin'),
      IDHUB_DATA_DIR: path.join(dataDir, 'other'),
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/apt-get install -y redis-server/);
  });

  it('shuts down on SIGTERM: exit 0, services stopped, runtime file removed', async () => {
    expect(existsSync(path.join(dataDir, 'runtime.json'))).toBe(true);
    const pgPid = Number(
      (await fs.readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    hub.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(hubLog).toMatch(/"msg":"stopped"/);
    expect(existsSync(path.join(dataDir, 'runtime.json'))).toBe(false);
    expect(() => process.kill(pgPid, 0)).toThrow();
  });
});
