import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentConfigError,
  assertHostAllowed,
  HostNotAllowedError,
  isHostAllowed,
  loadAgentConfig,
  REDACTED,
  redact,
  Secret,
} from './index.ts';

const LDAP_SECRET = 'ldap-S3cret-from-file';
const HUB_SECRET = 'hub-S3cret-from-file';
const TOKEN_SECRET = 'scim-T0ken-from-file';
const TENANT = '0b9f6a8e-6d1c-4f7e-9a6b-1c2d3e4f5a6b';
let dir: string;

function write(name: string, content: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

function errorOf(file: string): AgentConfigError {
  try {
    loadAgentConfig(file);
  } catch (e) {
    if (e instanceof AgentConfigError) return e;
    throw e;
  }
  throw new Error('expected AgentConfigError');
}

const FULL = `
urls: [https://hub-a.example.com/, https://hub-b.example.com]
tenantId: ${TENANT}
userName: agent-1
passwordFile: hub.pw
trustStore: ca.pem
reconnectDelay: { initialMs: 500, maxMs: 30000, jitter: 0.5 }
keepAlive: { intervalMs: 10000 }
healthz: { port: 9464 }
allowHosts: [ldap.corp.local, "*.db.corp.local", "scim.corp.local:8443"]
dataSources:
  corp-ldap:
    type: ldap
    url: ldap://ldap.corp.local
    bindDn: cn=agent,dc=corp,dc=local
    passwordFile: ldap.pw
    baseDn: dc=corp,dc=local
    tls: { startTls: true, ca: ca.pem }
  hr:
    type: sql
    url: postgres://reader@hr.db.corp.local:5432/hr
    passwordFile: ldap.pw
    table: public.employees
    key: employee_id
    columns: { employeeNumber: employee_id, mail: email }
  app:
    type: scim
    baseUrl: https://scim.corp.local:8443/scim/v2/
    auth: { type: bearer, tokenFile: token.txt }
`;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idhub-agent-config-'));
  write('hub.pw', `${HUB_SECRET}\n`);
  write('ldap.pw', `${LDAP_SECRET}\n`);
  write('token.txt', TOKEN_SECRET);
  write('ca.pem', '-----BEGIN CERTIFICATE-----\n');
  write('client.p12', 'p12');
  write('client.crt', 'crt');
  write('client.key', 'key');
  write('empty.pw', '');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadAgentConfig', () => {
  it('loads a full valid config and resolves files against its folder', () => {
    const c = loadAgentConfig(write('full.yaml', FULL));
    expect(c.urls).toEqual(['https://hub-a.example.com', 'https://hub-b.example.com']);
    expect(c.tenantId).toBe(TENANT);
    expect(c.auth.kind).toBe('basic');
    expect(c.auth.kind === 'basic' && c.auth.password.reveal()).toBe(HUB_SECRET);
    expect(c.trustStore).toEqual({
      kind: 'pem',
      path: path.join(dir, 'ca.pem'),
      password: undefined,
    });
    expect(c.reconnectDelay).toEqual({ initialMs: 500, maxMs: 30000, jitter: 0.5 });
    expect(c.keepAlive.intervalMs).toBe(10000);
    expect(c.healthz).toEqual({ host: '127.0.0.1', port: 9464 });
    const ldap = c.dataSources['corp-ldap'];
    expect(ldap?.type === 'ldap' && ldap.password.reveal()).toBe(LDAP_SECRET);
    expect(ldap?.type === 'ldap' && ldap.tls).toEqual({
      startTls: true,
      ca: path.join(dir, 'ca.pem'),
    });
    const hr = c.dataSources.hr;
    expect(hr?.type === 'sql' && hr.key).toEqual(['employee_id']);
    const app = c.dataSources.app;
    expect(app?.type === 'scim' && app.baseUrl).toBe('https://scim.corp.local:8443/scim/v2');
    expect(app?.type === 'scim' && app.auth.type === 'bearer' && app.auth.token.reveal()).toBe(
      TOKEN_SECRET,
    );
  });

  it('applies defaults', () => {
    const c = loadAgentConfig(
      write('min.yaml', `urls: [https://hub]\ntenantId: ${TENANT}\nuserName: a\npassword: p\n`),
    );
    expect(c.reconnectDelay).toEqual({ initialMs: 1000, maxMs: 60000, jitter: 0.2 });
    expect(c.keepAlive).toEqual({ intervalMs: 15000 });
    expect(c.healthz).toBeUndefined();
    expect(c.dataSources).toEqual({});
    expect(c.allowHosts).toEqual([]);
  });

  it('lists every kind of problem at once, with paths', () => {
    const e = errorOf(
      write(
        'bad.yaml',
        `
urls: []
tenantId: acme
userName: agent-1
password: inline
passwordFile: hub.pw
certFile: client.crt
trustStore: missing-ca.pem
reconnectDelay: { initialMs: 5000, maxMs: 900000, jitter: 2 }
keepAlive: { intervalMs: 10 }
healthz: { host: 0.0.0.0, port: 70000 }
allowHosts: [ldap.corp.local, "bad host!"]
colour: blue
dataSources:
  corp-ldap:
    type: ldap
    url: ldaps://ldap.corp.local
    bindDn: cn=agent
    baseDn: dc=corp
    tls: { startTls: true }
  stray:
    type: ldap
    url: ldap://evil.example.com
    bindDn: cn=agent
    passwordFile: nowhere.pw
    baseDn: dc=x
  hr:
    type: sql
    url: mysql://hr
    table: "employees; drop table x"
    key: id
    columns: {}
  app:
    type: scim
    baseUrl: https://scim.corp.local
    auth: { type: bearer, tokenFile: empty.pw }
  bad name!:
    type: ftp
`,
      ),
    );
    const text = e.problems.join('\n');
    const expected = [
      /^urls: list at least one hub URL/m,
      /^tenantId: must be the tenant id/m,
      /^passwordFile: give either password or passwordFile, not both/m,
      /^keyFile: certFile and keyFile go together/m,
      /^trustStore: file not found: .*missing-ca\.pem/m,
      /^reconnectDelay\.maxMs: must be at most 300000/m,
      /^reconnectDelay\.jitter: /m,
      /^keepAlive\.intervalMs: /m,
      /^healthz\.port: /m,
      /^healthz\.host: must be a loopback address/m,
      /^allowHosts\.1: must be a host name/m,
      /^\(root\): Unrecognized key: "colour"/m,
      /^dataSources\.corp-ldap\.password: required \(or passwordFile\)/m,
      /^dataSources\.corp-ldap\.tls\.startTls: StartTLS is for ldap:\/\//m,
      /^dataSources\.stray\.url: host "evil\.example\.com" is not in allowHosts/m,
      /^dataSources\.stray\.passwordFile: file not found/m,
      /^dataSources\.hr\.url: must be a postgres:\/\/ URL/m,
      /^dataSources\.hr\.table: must be a plain SQL identifier/m,
      /^dataSources\.hr\.columns: must map at least one attribute/m,
      /^dataSources\.app\.baseUrl: host "scim\.corp\.local" is not in allowHosts/m,
      /^dataSources\.app\.auth\.tokenFile: file is empty/m,
      /^dataSources\.bad name!: /m,
    ];
    for (const re of expected) expect(text).toMatch(re);
    expect(e.message).toContain('invalid agent configuration');
    expect(e.message).not.toContain('inline');
  });

  it('reports YAML syntax errors with a line and without the source text', () => {
    const e = errorOf(write('syntax.yaml', 'urls: [https://hub\npassword: "hunter2-secret\n'));
    expect(e.problems[0]).toMatch(/^line \d+: /);
    expect(e.message).not.toContain('hunter2');
    expect(errorOf(write('list.yaml', '- a\n')).problems).toEqual([
      '(root): must be a YAML mapping of settings',
    ]);
    expect(errorOf(path.join(dir, 'absent.yaml')).problems).toEqual([
      'cannot read the file (ENOENT)',
    ]);
  });

  it('requires some hub credentials', () => {
    const e = errorOf(write('noauth.yaml', `urls: [https://hub]\ntenantId: ${TENANT}\n`));
    expect(e.problems).toEqual([expect.stringMatching(/^\(root\): no hub credentials/)]);
  });

  it('lets a client certificate win over basic credentials', () => {
    const base = `urls: [https://hub]\ntenantId: ${TENANT}\nuserName: a\npasswordFile: hub.pw\n`;
    const p12 = loadAgentConfig(
      write(
        'p12.yaml',
        `${base}keyStore: client.p12\nkeyStorePasswordFile: ldap.pw\ntrustStore: client.p12\n`,
      ),
    );
    expect(p12.auth).toEqual({
      kind: 'pkcs12',
      keyStore: path.join(dir, 'client.p12'),
      passphrase: expect.any(Secret),
    });
    expect(p12.auth.kind === 'pkcs12' && p12.auth.passphrase?.reveal()).toBe(LDAP_SECRET);
    expect(p12.trustStore?.kind).toBe('pkcs12');
    const pem = loadAgentConfig(
      write('pem.yaml', `${base}certFile: client.crt\nkeyFile: client.key\n`),
    );
    expect(pem.auth).toEqual({
      kind: 'pem',
      certFile: path.join(dir, 'client.crt'),
      keyFile: path.join(dir, 'client.key'),
      passphrase: undefined,
    });
    const both = errorOf(
      write(
        'both.yaml',
        `${base}keyStore: client.p12\ncertFile: client.crt\nkeyFile: client.key\n`,
      ),
    );
    expect(both.problems).toEqual([
      expect.stringMatching(/^keyStore: give either keyStore or certFile/),
    ]);
  });

  it('never puts secrets in errors, JSON, inspect output or redacted copies', () => {
    const e = errorOf(write('leak.yaml', FULL.replace('tenantId', 'tenantId: nope\nx')));
    for (const s of [LDAP_SECRET, HUB_SECRET, TOKEN_SECRET]) expect(e.message).not.toContain(s);
    const c = loadAgentConfig(write('full2.yaml', FULL));
    const dumps = [
      JSON.stringify(c),
      util.inspect(c, { depth: 10 }),
      JSON.stringify(redact(c)),
      String(c.auth.kind === 'basic' && c.auth.password),
    ];
    for (const dump of dumps) {
      for (const s of [LDAP_SECRET, HUB_SECRET, TOKEN_SECRET]) expect(dump).not.toContain(s);
    }
    expect(JSON.stringify(c)).toContain(REDACTED);
    expect(
      redact({
        url: 'postgres://u:pw123@db/x',
        password: 'inline',
        passwordFile: '/etc/pw',
        key: 'id',
      }),
    ).toEqual({
      url: `postgres://u:${REDACTED}@db/x`,
      password: REDACTED,
      passwordFile: '/etc/pw',
      key: 'id',
    });
  });
});

describe('host allow-list', () => {
  const allow = [
    'ldap.corp.local',
    '*.db.corp.local',
    'scim.corp.local:8443',
    '10.0.0.5',
    '[::1]:636',
  ];

  it.each([
    ['ldap://ldap.corp.local', true],
    ['ldaps://LDAP.corp.local.:636', true],
    ['postgres://u:p@hr.db.corp.local/hr', true],
    ['postgres://db.corp.local/hr', false], // *.domain does not match the domain itself
    ['postgres://evil-db.corp.local/hr', false],
    ['https://scim.corp.local:8443/v2', true],
    ['https://scim.corp.local/v2', false], // port 443 ≠ 8443
    ['ldap://10.0.0.5', true],
    ['ldaps://[::1]', true],
    ['ldap://[::1]', false],
    ['ldap://ldap.corp.local.evil.com', false],
    ['not a url', false],
  ])('%s → %s', (url, ok) => {
    expect(isHostAllowed(allow, url)).toBe(ok);
  });

  it('throws a refused error at run time', () => {
    expect(() => assertHostAllowed({ allowHosts: allow }, 'ldap://ldap.corp.local')).not.toThrow();
    let err: unknown;
    try {
      assertHostAllowed({ allowHosts: allow }, 'ldap://admin:pw@evil.example.com:389');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostNotAllowedError);
    expect((err as HostNotAllowedError).code).toBe('refused');
    expect((err as Error).message).toBe('host "evil.example.com:389" is not in allowHosts');
  });
});

describe('application.example.yaml', () => {
  it('has a valid shape (its files live on the target machine)', async () => {
    const { parse } = await import('yaml');
    const { agentConfigSchema } = await import('./schema.ts');
    const source = fs.readFileSync(new URL('../application.example.yaml', import.meta.url), 'utf8');
    const r = agentConfigSchema.safeParse(parse(source));
    expect(r.success ? [] : r.error.issues).toEqual([]);
    expect(r.data?.allowHosts.length).toBeGreaterThan(0);
    for (const ds of Object.values(r.data?.dataSources ?? {})) {
      expect(
        isHostAllowed(r.data?.allowHosts ?? [], ds.type === 'scim' ? ds.baseUrl : ds.url),
      ).toBe(true);
    }
  });
});
