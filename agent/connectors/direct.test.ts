import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { REDACTED, Secret } from '../config/index.ts';
import {
  parseDirectDataSource,
  redactDataSourceConfig,
  SECRET_CONFIG_KEYS,
  secretKeysIn,
} from './direct.ts';

const LDAP = {
  url: 'ldap://ldap.corp.local',
  bindDn: 'cn=hub,dc=corp,dc=local',
  password: 'Ld4p-pw',
  baseDn: 'dc=corp,dc=local',
};
const SQL = {
  url: 'postgres://reader@db.corp.local/hr',
  password: 'Sql-pw',
  table: 'hr.people',
  key: 'id',
  columns: { userName: 'login' },
};
const SCIM = { baseUrl: 'https://scim.example.com/v2/', auth: { type: 'bearer', token: 'T0k' } };
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function problemsOf(r: ReturnType<typeof parseDirectDataSource>): string[] {
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

describe('parseDirectDataSource', () => {
  it('accepts an ldap source without type and wraps the password in a Secret', () => {
    const r = parseDirectDataSource('ldap', LDAP, 'corp');
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.type !== 'ldap') throw new Error('ldap expected');
    expect(r.value.password).toBeInstanceOf(Secret);
    expect(r.value.password.reveal()).toBe('Ld4p-pw');
    expect(r.value.tls).toEqual({ startTls: false });
    expect(JSON.stringify(r.value)).not.toContain('Ld4p-pw');
    expect(util.inspect(r.value, { depth: 5 })).not.toContain('Ld4p-pw');
  });

  it('normalises a sql key to an array and keeps an optional password', () => {
    const r = parseDirectDataSource('sql', { ...SQL, type: 'sql' }, 'hr');
    if (!r.ok || r.value.type !== 'sql') throw new Error('sql expected');
    expect(r.value.key).toEqual(['id']);
    expect(r.value.password?.reveal()).toBe('Sql-pw');
    const { password: _, ...noPassword } = SQL;
    const bare = parseDirectDataSource('sql', noPassword, 'hr');
    expect(bare.ok && bare.value.type === 'sql' && bare.value.password).toBeUndefined();
  });

  it('strips a trailing slash from a scim baseUrl and accepts basic auth', () => {
    const r = parseDirectDataSource('scim', SCIM, 'app');
    if (!r.ok || r.value.type !== 'scim') throw new Error('scim expected');
    expect(r.value.baseUrl).toBe('https://scim.example.com/v2');
    const basic = parseDirectDataSource(
      'scim',
      { ...SCIM, auth: { type: 'basic', userName: 'u', password: 'p' }, tls: { ca: PEM } },
      'app',
    );
    expect(basic.ok).toBe(true);
  });

  it('refuses *File references with a readable line', () => {
    const { password: _, ...rest } = LDAP;
    const problems = problemsOf(
      parseDirectDataSource('ldap', { ...rest, passwordFile: '/etc/pw' }, 'corp'),
    );
    expect(problems).toContain(
      'passwordFile: the hub reads no files; give password inline instead',
    );
    expect(problems).toContain('password: Invalid input: expected string, received undefined');
    const scim = problemsOf(
      parseDirectDataSource('scim', { ...SCIM, auth: { type: 'bearer', tokenFile: 't' } }, 'a'),
    );
    expect(scim[0]).toBe('auth.tokenFile: the hub reads no files; give token inline instead');
  });

  it('refuses a CA given as a path, a type mismatch, unknown keys and a bad name', () => {
    const problems = problemsOf(
      parseDirectDataSource(
        'ldap',
        { ...LDAP, type: 'sql', tls: { ca: '/etc/ca.pem' }, extra: 1 },
        'bad name!',
      ),
    );
    expect(problems.some((p) => p.startsWith('name: '))).toBe(true);
    expect(problems).toContain('type: must be "ldap" (the data source\'s kind) or omitted');
    expect(problems.some((p) => p.startsWith('tls.ca: must be PEM text'))).toBe(true);
    expect(problems.some((p) => p.includes('extra'))).toBe(true);
  });

  it('lists every problem without echoing secret values', () => {
    const problems = problemsOf(
      parseDirectDataSource('sql', { url: 'mysql://x', password: 'Sql-pw', columns: {} }, 'hr'),
    );
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(problems.join('\n')).not.toContain('Sql-pw');
    expect(problems.every((p) => /^[\w.()]+: /.test(p))).toBe(true);
  });

  it('refuses StartTLS on ldaps and a non-object config', () => {
    const problems = problemsOf(
      parseDirectDataSource('ldap', { ...LDAP, url: 'ldaps://x', tls: { startTls: true } }, 'corp'),
    );
    expect(problems).toEqual([
      'tls.startTls: StartTLS is for ldap:// URLs; ldaps:// is already TLS',
    ]);
    expect(problemsOf(parseDirectDataSource('ldap', 'x', 'corp'))).toEqual([
      '(root): must be an object',
    ]);
  });
});

describe('secretKeysIn / redactDataSourceConfig', () => {
  it('lists secret keys, nested ones and URL passwords, not file references', () => {
    expect(secretKeysIn(LDAP)).toEqual(['password']);
    expect(secretKeysIn(SCIM)).toEqual(['auth.token']);
    expect(secretKeysIn({ url: 'postgres://u:pw@h/db', passwordFile: '/x', table: 't' })).toEqual([
      'url',
    ]);
    expect(secretKeysIn({ url: 'postgres://u@h/db', password: null })).toEqual([]);
    expect(SECRET_CONFIG_KEYS).toContain('password');
  });

  it('redacts secrets, Secret instances and URL passwords', () => {
    const out = redactDataSourceConfig({
      ...SCIM,
      url: 'postgres://u:pw@h/db',
      password: new Secret('x'),
    });
    expect(out).toEqual({
      baseUrl: SCIM.baseUrl,
      auth: { type: 'bearer', token: REDACTED },
      url: `postgres://u:${REDACTED}@h/db`,
      password: REDACTED,
    });
  });
});
