import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../api/services/ports.ts';

const run = promisify(execFile);

/** A private OpenLDAP for one test file: plain process, own cn=config, loopback only. */
export interface TestSlapd {
  url: string;
  /** ldapi:// URL of the unix socket (for ldapadd/ldapsearch in tests). */
  ldapiUrl: string;
  bindDn: string;
  password: string;
  baseDn: string;
  stop(): Promise<void>;
}

export interface StartSlapdOptions {
  suffix?: string;
  /** Generated inetOrgPerson entries `uid=u000001…` under ou=generated (default 0). */
  generatedUsers?: number;
}

const SBIN = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const MODULE_PATH = '/usr/lib/ldap';
const SCHEMAS = ['core', 'cosine', 'nis', 'inetorgperson'];

/**
 * Starts Debian's slapd 2.5 on a free loopback port with the mdb backend and the overlays
 * the sync engine relies on (syncprov, accesslog, ppolicy, memberof), seeded with a small
 * directory whose names need RFC 4514 escaping. Installs `slapd ldap-utils` when missing
 * and running as root. Never touches a system slapd.
 */
export async function startSlapd(options: StartSlapdOptions = {}): Promise<TestSlapd> {
  await ensurePackages();
  const baseDn = options.suffix ?? 'dc=idhub,dc=test';
  const bindDn = `cn=admin,${baseDn}`;
  const password = randomBytes(12).toString('hex');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idhub-slapd-'));
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child) await killAndWait(child);
    child = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    for (const sub of ['slapd.d', 'db', 'accesslog', 'run']) await fs.mkdir(path.join(dir, sub));
    const port = await freePort();
    const ldapiUrl = `ldapi://${encodeURIComponent(path.join(dir, 'run', 'ldapi'))}`;
    const slapadd = await which('slapadd');
    await fs.writeFile(path.join(dir, 'config.ldif'), configLdif(dir, baseDn, bindDn, password));
    await run(slapadd, [
      '-n0',
      '-F',
      path.join(dir, 'slapd.d'),
      '-l',
      path.join(dir, 'config.ldif'),
    ]);
    await fs.writeFile(path.join(dir, 'seed.ldif'), seedLdif(baseDn, options.generatedUsers ?? 0));
    // -w: correct contextCSN. No -q: slapadd 2.5 -q aborts (double free) when spawned from
    // node here; small seeds load fast enough without it. slapadd skips overlays, so groups
    // (which need memberOf) are added online below.
    const seedArgs = ['-w', '-b', baseDn, '-F', path.join(dir, 'slapd.d')];
    await run(slapadd, [...seedArgs, '-l', path.join(dir, 'seed.ldif')]);

    const url = `ldap://127.0.0.1:${port}`;
    const slapd = await which('slapd');
    // -d 0 keeps slapd in the foreground so we own its pid and can await its exit.
    child = spawn(
      slapd,
      ['-h', `${url}/ ${ldapiUrl}`, '-F', path.join(dir, 'slapd.d'), '-d', '0'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const stderr: string[] = [];
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const proc = child;
    process.once('exit', () => proc.kill('SIGKILL'));
    await waitForPort(port, child, () => stderr.join(''));

    await fs.writeFile(path.join(dir, 'groups.ldif'), groupsLdif(baseDn));
    const ldapadd = await which('ldapadd');
    await run(ldapadd, [
      '-x',
      '-H',
      ldapiUrl,
      '-D',
      bindDn,
      '-w',
      password,
      '-f',
      path.join(dir, 'groups.ldif'),
    ]);
    return { url, ldapiUrl, bindDn, password, baseDn, stop };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}

/** The path of an executable from PATH or the sbin directories (Debian puts daemons there). */
export async function which(name: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...SBIN].filter(Boolean);
  for (const d of dirs) {
    const candidate = path.join(d, name);
    try {
      await fs.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(`${name} not found`);
}

async function ensurePackages(): Promise<void> {
  const missing = await Promise.all(
    ['slapd', 'slapadd', 'ldapadd'].map((n) =>
      which(n).then(
        () => false,
        () => true,
      ),
    ),
  );
  if (!missing.includes(true)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'slapd / ldap-utils are missing: run .ci/deps (or apt-get install slapd ldap-utils)',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'slapd', 'ldap-utils'], {
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`slapd did not listen on ${port}: ${log()}`);
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** `{SSHA}` as slappasswd writes it, so seeded users can bind without an online add. */
export function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** One LDIF line; base64 (`::`) when the value is not a safe ASCII string (RFC 2849). */
function line(attr: string, value: string): string {
  // printable ASCII, not starting with space, ':' or '<' (conservative SAFE-STRING)
  const safe = /^[!-9;=-~][ -~]*$/;
  if (value === '' || (safe.test(value) && !value.endsWith(' '))) return `${attr}: ${value}\n`;
  return `${attr}:: ${Buffer.from(value, 'utf8').toString('base64')}\n`;
}

function entry(dn: string, attrs: [string, string][]): string {
  return `${line('dn', dn)}${attrs.map(([a, v]) => line(a, v)).join('')}\n`;
}

function configLdif(dir: string, suffix: string, rootDn: string, rootPw: string): string {
  const gid = process.getgid?.() ?? 0;
  const uid = process.getuid?.() ?? 0;
  const peer = `gidNumber=${gid}+uidNumber=${uid},cn=peercred,cn=external,cn=auth`;
  const schemas = SCHEMAS.map((s) => `include: file:///etc/ldap/schema/${s}.ldif`).join('\n');
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/run/slapd.pid
olcArgsFile: ${dir}/run/slapd.args
olcLogLevel: none
olcSizeLimit: 500

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: ${MODULE_PATH}
olcModuleLoad: back_mdb
olcModuleLoad: syncprov
olcModuleLoad: accesslog
olcModuleLoad: ppolicy
olcModuleLoad: memberof

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

${schemas}

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=config
olcAccess: {0}to * by dn.exact=${peer} manage by * break

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: cn=accesslog
olcDbDirectory: ${dir}/accesslog
olcRootDN: ${rootDn}
olcDbMaxSize: 268435456
olcDbIndex: default eq
olcDbIndex: entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN
olcAccess: {0}to * by dn.exact="${rootDn}" read by * none

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpNoPresent: TRUE
olcSpReloadHint: TRUE

dn: olcDatabase={2}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {2}mdb
olcSuffix: ${suffix}
olcDbDirectory: ${dir}/db
olcRootDN: ${rootDn}
olcRootPW: ${ssha(rootPw)}
olcDbMaxSize: 1073741824
olcDbIndex: objectClass eq
olcDbIndex: entryUUID,entryCSN eq
olcDbIndex: uid,mail,cn,sn,givenName eq,sub
olcDbIndex: member,memberOf eq
olcLimits: {0}users size.soft=500 size.hard=unlimited size.pr=unlimited size.prtotal=unlimited
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by users read by * none

dn: olcOverlay={0}syncprov,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpCheckpoint: 100 10
olcSpSessionlog: 10000

dn: olcOverlay={1}accesslog,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {1}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogPurge: 07+00:00 01+00:00

dn: olcOverlay={2}ppolicy,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {2}ppolicy
olcPPolicyDefault: cn=default,ou=policies,${suffix}
olcPPolicyHashCleartext: TRUE
olcPPolicyUseLockout: TRUE

dn: olcOverlay={3}memberof,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {3}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
`;
}

/** Seeded people. DNs are written here already escaped (RFC 4514) on purpose. */
export const SEED_PEOPLE = [
  { rdn: 'uid=alice', cn: 'Alice Example', sn: 'Example', uid: 'alice', password: 'alicepass1' },
  { rdn: 'uid=bob', cn: 'Bob Example', sn: 'Example', uid: 'bob', password: 'bobpass12' },
  {
    rdn: 'cn=Smith\\, John',
    cn: 'Smith, John',
    sn: 'Smith',
    uid: 'jsmith',
    password: 'smithpass1',
  },
  {
    rdn: 'cn=\\#1 O\\"Brien \\<ops\\>',
    cn: '#1 O"Brien <ops>',
    sn: 'OBrien',
    uid: 'obrien',
    password: 'obrienpw1',
  },
  { rdn: 'cn=Zoë Ångström', cn: 'Zoë Ångström', sn: 'Ångström', uid: 'zoe', password: 'zoepass12' },
] as const;

function seedLdif(suffix: string, generated: number): string {
  const out = [
    entry(suffix, [
      ['objectClass', 'dcObject'],
      ['objectClass', 'organization'],
      ['dc', suffix.replace(/^dc=([^,]+).*$/, '$1')],
      ['o', 'idhub test'],
    ]),
  ];
  for (const ou of ['people', 'groups', 'policies', 'generated']) {
    out.push(
      entry(`ou=${ou},${suffix}`, [
        ['objectClass', 'organizationalUnit'],
        ['ou', ou],
      ]),
    );
  }
  out.push(
    entry(`cn=default,ou=policies,${suffix}`, [
      ['objectClass', 'organizationalRole'],
      ['objectClass', 'pwdPolicy'],
      ['cn', 'default'],
      ['pwdAttribute', 'userPassword'],
      ['pwdLockout', 'TRUE'],
      ['pwdMaxFailure', '5'],
      ['pwdLockoutDuration', '300'],
    ]),
  );
  for (const p of SEED_PEOPLE) {
    out.push(
      entry(`${p.rdn},ou=people,${suffix}`, [
        ['objectClass', 'inetOrgPerson'],
        ['cn', p.cn],
        ['sn', p.sn],
        ['uid', p.uid],
        ['mail', `${p.uid}@idhub.test`],
        ['userPassword', ssha(p.password)],
      ]),
    );
  }
  const pw = ssha('generated1');
  for (let i = 1; i <= generated; i++) {
    const uid = `u${String(i).padStart(6, '0')}`;
    out.push(
      entry(`uid=${uid},ou=generated,${suffix}`, [
        ['objectClass', 'inetOrgPerson'],
        ['uid', uid],
        ['cn', `Generated User ${i}`],
        ['sn', 'User'],
        ['employeeNumber', String(i)],
        ['userPassword', pw],
      ]),
    );
  }
  return out.join('');
}

/** Groups are added online so the memberof overlay fills memberOf (slapadd skips overlays). */
function groupsLdif(suffix: string): string {
  const person = (rdn: string) => `${rdn},ou=people,${suffix}`;
  const group = (cn: string) => `cn=${cn},ou=groups,${suffix}`;
  return [
    entry(group('staff'), [
      ['objectClass', 'groupOfNames'],
      ['cn', 'staff'],
      ...SEED_PEOPLE.map((p): [string, string] => ['member', person(p.rdn)]),
    ]),
    entry(group('admins'), [
      ['objectClass', 'groupOfNames'],
      ['cn', 'admins'],
      ['member', person('uid=alice')],
    ]),
    entry(group('everyone'), [
      ['objectClass', 'groupOfNames'],
      ['cn', 'everyone'],
      ['member', group('staff')],
      ['member', group('admins')],
    ]),
  ].join('');
}
