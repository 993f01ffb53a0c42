import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../api/services/ports.ts';
import { until } from '../../test/until.ts';

/** The agent as shipped: `npm run build:agent`, then the bundle alone, outside the repository. */
const root = path.resolve(import.meta.dirname, '../..');
let dir: string;
let bundle: string;

const BAD_YAML = 'urls: [ftp://hub.example]\nuserName: agent-1\npassword: hunter2-xyz\n';
const run = (args: string[], cwd = dir) =>
  spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 30_000 });

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idhub-agent-build-'));
  bundle = path.join(dir, 'idhub-agent.mjs');
  const built = run(['agent/build.mjs', '--outfile', bundle], root);
  expect(built.status, built.stderr).toBe(0);
  fs.writeFileSync(path.join(dir, 'bad.yaml'), BAD_YAML);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the built agent', () => {
  it('prints its usage with --help', () => {
    const r = run([bundle, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: idhub-agent --config');
  });

  it('reports every configuration problem readably and exits 2, without the password', () => {
    const r = run([bundle, '--config', 'bad.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `invalid agent configuration ${path.join(fs.realpathSync(dir), 'bad.yaml')}`,
    );
    expect(r.stderr).toContain('urls.0: must be a http(s):// URL');
    expect(r.stderr).toContain('tenantId: must be the tenant id (a UUID)');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('knows its version', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(run([bundle, '--version']).stdout.trim()).toBe(version);
  });

  it('runs, serves /healthz while the hub is unreachable, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const yaml = [
      `urls: ['http://127.0.0.1:${await freePort()}']`,
      'tenantId: 0b9f6a8e-6d1c-4f7e-9a6b-1c2d3e4f5a6b',
      'userName: agent-1',
      'password: hunter2-xyz',
      `healthz: { host: 127.0.0.1, port: ${port} }`,
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'good.yaml'), yaml);
    const child = spawn(process.execPath, [bundle, '--config', 'good.yaml'], { cwd: dir });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const status = await until(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return res?.status;
      },
      'healthz',
      15_000,
    );
    expect(status).toBe(503);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"agent stopped"');
    expect(out).not.toContain('hunter2');
  });
});

describe('idhub agent (api/cli.ts)', () => {
  it('hands the command line to the agent', () => {
    const r = run(
      ['--import', 'tsx', 'api/cli.ts', 'agent', '--config', path.join(dir, 'bad.yaml')],
      root,
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('invalid agent configuration');
  });
});
