import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlapd, type TestSlapd } from '../../../test/slapd.ts';
import { createLdapConnector, type LdapConnector, PAGING_COOKIE_EXPIRED } from './connector.ts';
import { childDn, dnEquals } from './dn.ts';
import { LdapConnectorError } from './errors.ts';
import { and, eq, ldapFilter } from './filter.ts';

const GENERATED = 2500;
let slapd: TestSlapd;
let ldap: LdapConnector;

beforeAll(async () => {
  slapd = await startSlapd({ generatedUsers: GENERATED });
  ldap = createLdapConnector({ url: slapd.url, bindDn: slapd.bindDn, password: slapd.password });
});
afterAll(async () => {
  await ldap?.close();
  await slapd?.stop();
});

async function error(p: Promise<unknown>): Promise<LdapConnectorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LdapConnectorError);
  return e as LdapConnectorError;
}

describe('LDAP connector against slapd', () => {
  it('binds and tests the connection', async () => {
    const r = await ldap.testConnection();
    expect(r.ok).toBe(true);
    expect(r.namingContexts).toContain(slapd.baseDn);
  });

  it('maps a wrong password to auth_failure without echoing the secret', async () => {
    const bad = createLdapConnector({ url: slapd.url, bindDn: slapd.bindDn, password: 'nope-xyz' });
    const e = await error(bad.testConnection());
    expect(e.code).toBe('auth_failure');
    expect(e.remoteCode).toBe(49);
    expect(e.message).not.toContain('nope-xyz');
    await bad.close();
  });

  it('pages through every generated user exactly once, driven by the caller', async () => {
    const seen = new Map<string, number>();
    let cookie: string | undefined;
    let pages = 0;
    do {
      const page = await ldap.search({
        baseDn: `ou=generated,${slapd.baseDn}`,
        scope: 'one',
        filter: eq('objectClass', 'inetOrgPerson'),
        attributes: ['uid'],
        pageSize: 500,
        ...(cookie ? { cookie } : {}),
      });
      pages++;
      expect(page.entries.length).toBeLessThanOrEqual(500);
      for (const e of page.entries) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      cookie = page.cookie;
    } while (cookie);
    expect(seen.size).toBe(GENERATED);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(GENERATED / 500);
  });

  it('keeps filter injection inert against the real server', async () => {
    const people = `ou=people,${slapd.baseDn}`;
    for (const injected of ['*)(uid=*', '*)(uid=*))(|(uid=*', '*']) {
      for (const filter of [
        eq('uid', injected),
        ldapFilter`(&(objectClass=person)(uid=${injected}))`,
      ]) {
        const page = await ldap.search({ baseDn: people, filter, attributes: ['uid'] });
        expect(page.entries).toEqual([]);
      }
    }
    const legit = await ldap.search({ baseDn: people, filter: ldapFilter`(uid=${'alice'})` });
    expect(legit.entries).toHaveLength(1);
  });

  it('finds entries whose DN needs escaping, built with the RFC 4514 escaper', async () => {
    const people = `ou=people,${slapd.baseDn}`;
    for (const cn of ['Smith, John', '#1 O"Brien <ops>', 'Zoë Ångström']) {
      const dn = childDn({ type: 'cn', value: cn }, people);
      const page = await ldap.search({ baseDn: dn, scope: 'base', attributes: ['cn', 'memberOf'] });
      expect(page.entries).toHaveLength(1);
      const entry = page.entries[0]!;
      expect(dnEquals(entry.id, dn)).toBe(true);
      expect(entry.attributes.cn).toEqual([cn]);
      expect(entry.attributes.memberOf).toEqual([`cn=staff,ou=groups,${slapd.baseDn}`]);
    }
  });

  it('returns entryUUID as text and binary values as base64', async () => {
    const page = await ldap.search({
      baseDn: `ou=people,${slapd.baseDn}`,
      filter: and(eq('objectClass', 'inetOrgPerson'), eq('uid', 'alice')),
      attributes: ['entryUUID', 'userPassword'],
    });
    const attrs = page.entries[0]?.attributes;
    expect(attrs?.entryUUID?.[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(attrs?.userPassword?.[0]).toEqual(expect.any(String));
  });

  it('lists attribute types and object classes from the subschema subentry', async () => {
    const attrs = await ldap.listAttributes();
    const cn = attrs.find((a) => a.name === 'cn');
    expect(cn?.aliases).toContain('commonName');
    expect(attrs.some((a) => a.name === 'entryUUID' && a.singleValue)).toBe(true);
    const classes = await ldap.listObjectClasses();
    const person = classes.find((c) => c.name === 'inetOrgPerson');
    expect(person?.kind).toBe('STRUCTURAL');
  });

  it('maps an unknown base to not_found', async () => {
    const e = await error(ldap.search({ baseDn: `ou=nowhere,${slapd.baseDn}` }));
    expect(e.code).toBe('not_found');
    expect(e.remoteCode).toBe(32);
  });

  it('reconnects and re-binds after the connection drops', async () => {
    const proxy = await tcpProxy(Number(new URL(slapd.url).port));
    const other = createLdapConnector({
      url: `ldap://127.0.0.1:${proxy.port}`,
      bindDn: slapd.bindDn,
      password: slapd.password,
    });
    try {
      await other.testConnection();
      await proxy.dropAll();
      // The first call may still meet the dead socket (connector_error); the next reconnects.
      const first = await other.testConnection().catch((e: unknown) => e);
      if (first instanceof LdapConnectorError) expect(first.code).toBe('connector_error');
      const page = await other.search({ baseDn: slapd.baseDn, scope: 'base', attributes: ['dc'] });
      expect(page.entries).toHaveLength(1);
      expect(proxy.accepted()).toBeGreaterThanOrEqual(2);
    } finally {
      await other.close();
      await proxy.close();
    }
  });
});

describe('paged searches on their own connections', () => {
  const generated = () => `ou=generated,${slapd.baseDn}`;
  const page = (c: LdapConnector, cookie?: string, pageSize = 300) =>
    c.search({
      baseDn: generated(),
      scope: 'one',
      filter: eq('objectClass', 'inetOrgPerson'),
      attributes: ['uid'],
      pageSize,
      ...(cookie ? { cookie } : {}),
    });

  it('interleaves two paged searches, each returning every entry exactly once', async () => {
    const runs = [{ seen: new Map<string, number>() }, { seen: new Map<string, number>() }];
    const cookies: (string | undefined)[] = [undefined, undefined];
    const done = [false, false];
    while (!done.every(Boolean)) {
      for (const i of [0, 1]) {
        if (done[i]) continue;
        const p = await page(ldap, cookies[i], i === 0 ? 300 : 450);
        for (const e of p.entries) runs[i]!.seen.set(e.id, (runs[i]!.seen.get(e.id) ?? 0) + 1);
        cookies[i] = p.cookie;
        done[i] = !p.cookie;
      }
    }
    for (const { seen } of runs) {
      expect(seen.size).toBe(GENERATED);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    }
  });

  it('refuses an unknown or reused cookie with a restart hint', async () => {
    const e1 = await error(page(ldap, 'bm90LWEtY29va2ll'));
    expect(e1.code).toBe('connector_error');
    expect(e1.message).toBe(PAGING_COOKIE_EXPIRED);
    const first = await page(ldap);
    await page(ldap, first.cookie);
    const e2 = await error(page(ldap, first.cookie));
    expect(e2.message).toBe(PAGING_COOKIE_EXPIRED);
  });

  it('evicts the longest-paused search when every connection is taken', async () => {
    const one = createLdapConnector({
      url: slapd.url,
      bindDn: slapd.bindDn,
      password: slapd.password,
      maxConnections: 1,
    });
    try {
      const a = await page(one);
      const b = await page(one);
      expect((await error(page(one, a.cookie))).message).toBe(PAGING_COOKIE_EXPIRED);
      const b2 = await page(one, b.cookie);
      expect(b2.entries.map((e) => e.id)).not.toContain(b.entries[0]?.id);
    } finally {
      await one.close();
    }
  });

  it('runs non-paged operations while a paged search is paused', async () => {
    const first = await page(ldap);
    await ldap.testConnection();
    const second = await page(ldap, first.cookie);
    expect(second.entries).toHaveLength(300);
  });
});

/** A TCP relay in front of slapd whose connections the test can cut. */
async function tcpProxy(target: number) {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    accepted: () => accepted,
    /** Resolves once both ends of every relayed connection are closed. */
    dropAll: () =>
      Promise.all(
        [...sockets].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.once('close', () => resolve());
              s.destroy();
            }),
        ),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
