import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, InvalidCredentialsError } from 'ldapts';
import { which } from './slapd.ts';

const run = promisify(execFile);

/** A private Samba AD DC for one test file: plain child process, own directory, no TCP port. */
export interface TestSambaDc {
  /** `ldap://127.0.0.1:<port>`: a relay in this process to the DC's ldapi socket. */
  url: string;
  bindDn: string;
  password: string;
  /** `DC=idhub,DC=test` */
  baseDn: string;
  /** `OU=Staff,<base>`: the seeded users and nothing else. */
  usersDn: string;
  /** `OU=Groups,<base>`: BigGroup and the nested pair. */
  groupsDn: string;
  realm: string;
  seed: SambaSeed;
  /** ldapmodify as the domain administrator. */
  modify(ldif: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StartSambaOptions {
  /** Users `CN=User 00001` … under usersDn (default 2000). */
  users?: number;
  /** Every n-th user (n, 2n, …) is disabled, userAccountControl 514 vs 512 (default 10; 0: none). */
  disabledEvery?: number;
  /** Members of `CN=BigGroup`: users 1…n (default 1600, above AD's MaxValRange of 1500). */
  bigGroupMembers?: number;
}

/** What was seeded, for assertions. User i is `seededUser(i)`. */
export interface SambaSeed {
  users: number;
  disabledEvery: number;
  bigGroupDn: string;
  bigGroupMembers: number;
  /** `CN=Outer` has member `CN=Inner`, which has member `nestedUserDn` (user 1). */
  outerGroupDn: string;
  innerGroupDn: string;
  nestedUserDn: string;
}

const REALM = 'IDHUB.TEST';
const BASE_DN = 'DC=idhub,DC=test';
const USERS_DN = `OU=Staff,${BASE_DN}`;
const GROUPS_DN = `OU=Groups,${BASE_DN}`;
const BIND_DN = `CN=Administrator,CN=Users,${BASE_DN}`;
const PACKAGES = [
  'samba',
  'samba-dsdb-modules',
  // provisioning sets the sysvol ACL through acl_xattr even when smbd never runs
  'samba-vfs-modules',
  'samba-ad-provision',
  'ldb-tools',
  'ldap-utils',
];
const PROVISION_ARGS = [
  'domain',
  'provision',
  `--realm=${REALM}`,
  '--domain=IDHUB',
  '--host-name=dc1',
  '--server-role=dc',
  '--dns-backend=NONE',
];
/** Part of the template cache key: bump when buildTemplate changes beyond its args and LDIF. */
const TEMPLATE_REVISION = 1;

export interface SeededUser {
  dn: string;
  cn: string;
  sAMAccountName: string;
  givenName: string;
  sn: string;
  displayName: string;
  /** Also the userPrincipalName. */
  mail: string;
}

/** Seeded user i (1-based): `CN=User 00042,OU=Staff,…`, sAMAccountName `user00042`. */
export function seededUser(i: number): SeededUser {
  const n = String(i).padStart(5, '0');
  const [givenName, sn] = [`First${n}`, `Last${n}`];
  return {
    dn: `CN=User ${n},${USERS_DN}`,
    cn: `User ${n}`,
    sAMAccountName: `user${n}`,
    givenName,
    sn,
    displayName: `${givenName} ${sn}`,
    mail: `user${n}@idhub.test`,
  };
}

/**
 * Starts Samba's AD DC (`samba -i -M single`) with only its LDAP server, bound to no network
 * interface: it listens on the ldapi socket in its own directory, and `url` is a loopback
 * relay to that socket on a port the kernel picks. Samba hard-codes 389/636/3268, so this is
 * what lets several DCs run at once next to whatever owns those ports. The provisioned and
 * seeded directory is built once per seed under os.tmpdir() and copied per start. Installs
 * the Debian packages when missing and running as root. Never touches a system Samba.
 */
export async function startSambaDc(options: StartSambaOptions = {}): Promise<TestSambaDc> {
  const seed = resolveSeed(options);
  await ensurePackages();
  const template = await sambaTemplate(seed);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idhub-samba-'));
  const dc = path.join(dir, 'dc');
  let samba: RunningSamba | undefined;
  let relay: Relay | undefined;
  const stop = async () => {
    await relay?.close();
    await samba?.stop();
    relay = undefined;
    samba = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await run('cp', ['-a', path.join(template.dir, 'dc'), dc]);
    const conf = await writeSmbConf(dc);
    samba = await spawnSamba(conf);
    const ldapi = path.join(dc, 'private', 'ldapi');
    relay = await unixRelay(ldapi);
    const url = `ldap://127.0.0.1:${relay.port}`;
    await waitForBind(url, template.password, samba);
    const ldapiUrl = `ldapi://${encodeURIComponent(ldapi)}`;
    let edits = 0;
    const modify = async (ldif: string) => {
      const file = path.join(dir, `modify-${++edits}.ldif`);
      await fs.writeFile(file, ldif);
      await ldapTool('ldapmodify', ldapiUrl, template.password, file);
    };
    return {
      url,
      bindDn: BIND_DN,
      password: template.password,
      baseDn: BASE_DN,
      usersDn: USERS_DN,
      groupsDn: GROUPS_DN,
      realm: REALM,
      seed,
      modify,
      stop,
    };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}

function resolveSeed(options: StartSambaOptions): SambaSeed {
  const users = options.users ?? 2000;
  const bigGroupMembers = options.bigGroupMembers ?? Math.min(1600, users);
  if (users < 1 || bigGroupMembers > users) {
    throw new Error('startSambaDc: needs users >= 1 and bigGroupMembers <= users');
  }
  return {
    users,
    disabledEvery: options.disabledEvery ?? 10,
    bigGroupDn: `CN=BigGroup,${GROUPS_DN}`,
    bigGroupMembers,
    outerGroupDn: `CN=Outer,${GROUPS_DN}`,
    innerGroupDn: `CN=Inner,${GROUPS_DN}`,
    nestedUserDn: seededUser(1).dn,
  };
}

/**
 * A provisioned, seeded DC directory (`<dir>/dc`) plus its admin password, built once per
 * samba version and seed: provisioning takes ~4 s and seeding 2000 users ~6 s. Built in a
 * scratch directory and renamed into place, so concurrent test files never see half of one.
 */
async function sambaTemplate(seed: SambaSeed): Promise<{ dir: string; password: string }> {
  const ldif = seedLdif(seed);
  const { stdout: version } = await run(await which('samba'), ['--version']);
  const key = createHash('sha256')
    .update(JSON.stringify({ TEMPLATE_REVISION, version, PROVISION_ARGS, ldif }))
    .digest('hex')
    .slice(0, 16);
  const root = path.join(os.tmpdir(), 'idhub-samba-templates');
  const dir = path.join(root, key);
  const cached = await fs.readFile(path.join(dir, 'password'), 'utf8').catch(() => undefined);
  if (cached) return { dir, password: cached };
  await fs.mkdir(root, { recursive: true });
  const scratch = await fs.mkdtemp(path.join(root, `${key}.tmp-`));
  try {
    const password = await buildTemplate(path.join(scratch, 'dc'), ldif);
    await fs.writeFile(path.join(scratch, 'password'), password, { mode: 0o600 });
    await fs.rename(scratch, dir).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
      await fs.rm(scratch, { recursive: true, force: true }); // another file built it first
    });
    return { dir, password: await fs.readFile(path.join(dir, 'password'), 'utf8') };
  } catch (e) {
    await fs.rm(scratch, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Provisions into `dc` and seeds it offline: ldbadd on sam.ldb runs the full DSDB module stack
 * (GUIDs, SIDs, USNs, memberOf) and is ~1.5x faster than the same LDIF over LDAP.
 */
async function buildTemplate(dc: string, ldif: string): Promise<string> {
  // complexity: upper, lower, digit and symbol, whatever the random part holds
  const password = `Aa1!${randomBytes(12).toString('hex')}`;
  const args = [...PROVISION_ARGS, `--adminpass=${password}`, `--targetdir=${dc}`];
  await run(await which('samba-tool'), [...args, '--option=interfaces=lo'], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((e: Error & { stderr?: string }) => {
    throw new Error(`samba-tool domain provision failed: ${e.stderr?.slice(-2000) ?? e.message}`);
  });
  const conf = await writeSmbConf(dc);
  const file = path.join(dc, 'seed.ldif');
  await fs.writeFile(file, ldif);
  const sam = path.join(dc, 'private', 'sam.ldb');
  await run(await which('ldbadd'), ['--nosync', `--configfile=${conf}`, '-H', sam, file], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((e: Error & { stderr?: string }) => {
    throw new Error(`ldbadd of the seed failed: ${e.stderr?.slice(-2000) ?? e.message}`);
  });
  await fs.rm(file);
  return password;
}

/**
 * smb.conf for one copy: every path inside `dc`, only the LDAP server, and an interface list
 * that matches no local address (TEST-NET-1), so the LDAP server opens no TCP or UDP socket —
 * only `private/ldapi`. Simple binds over it need no strong auth.
 */
async function writeSmbConf(dc: string): Promise<string> {
  const p = (...parts: string[]) => path.join(dc, ...parts);
  for (const sub of ['run', 'cache', 'log', 'state', 'bind-dns']) {
    await fs.mkdir(p(sub), { recursive: true });
  }
  const settings: [string, string][] = [
    ['netbios name', 'DC1'],
    ['realm', REALM],
    ['workgroup', 'IDHUB'],
    ['server role', 'active directory domain controller'],
    ['server services', 'ldap'],
    ['interfaces', '192.0.2.1/32'],
    ['bind interfaces only', 'yes'],
    ['disable netbios', 'yes'],
    ['tls enabled', 'no'],
    ['ldap server require strong auth', 'no'],
    ['private dir', p('private')],
    ['state directory', p('state')],
    ['cache directory', p('cache')],
    ['lock directory', p('run')],
    ['pid directory', p('run')],
    ['ncalrpc dir', p('run', 'ncalrpc')],
    ['binddns dir', p('bind-dns')],
    ['winbindd socket directory', p('run', 'winbindd')],
    ['ntp signd socket directory', p('run', 'ntp_signd')],
    ['log file', p('log', 'log.%m')],
    ['log level', '1'],
    ['panic action', ''],
  ];
  const conf = p('etc', 'smb.conf');
  await fs.mkdir(path.dirname(conf), { recursive: true });
  const body = settings.map(([k, v]) => `\t${k} = ${v}\n`).join('');
  await fs.writeFile(conf, `[global]\n${body}`);
  return conf;
}

interface RunningSamba {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** `samba -i` exits when its stdin closes, so it dies with this process even on SIGKILL. */
async function spawnSamba(conf: string): Promise<RunningSamba> {
  const child = spawn(await which('samba'), ['-i', '-M', 'single', '-s', conf], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.stdin?.on('error', () => {});
  const onExit = () => signalGroup(child, 'SIGKILL');
  process.once('exit', onExit);
  return {
    child,
    log: () => output,
    stop: async () => {
      process.removeListener('exit', onExit);
      await killAndWait(child);
    },
  };
}

/** samba makes itself a process group leader: signal the group, or the process if it did not. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

interface Relay {
  port: number;
  close(): Promise<void>;
}

/** A loopback TCP listener whose every connection is piped to a unix socket. */
async function unixRelay(socketPath: string): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls a simple bind as the administrator until the DC answers (a wrong password fails fast). */
async function waitForBind(url: string, password: string, samba: RunningSamba): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { child } = samba;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`samba exited (${child.exitCode ?? child.signalCode}): ${samba.log()}`);
    }
    const client = new Client({ url, connectTimeout: 2_000, timeout: 2_000 });
    try {
      await client.bind(BIND_DN, password);
      return;
    } catch (e) {
      if (e instanceof InvalidCredentialsError || Date.now() > deadline) {
        throw new Error(`samba did not accept a bind: ${(e as Error).message}\n${samba.log()}`);
      }
    } finally {
      await client.unbind().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ldapTool(tool: string, url: string, password: string, file: string) {
  const args = ['-x', '-H', url, '-D', BIND_DN, '-w', password, '-f', file];
  await run(await which(tool), args).catch((e: Error & { stderr?: string }) => {
    throw new Error(`${tool} failed: ${e.stderr?.trim() || e.message}`);
  });
}

/** Debian packages not installed (dpkg-query), or all of them when a tool is missing. */
async function missingPackages(): Promise<string[]> {
  const dpkgQuery = await which('dpkg-query').catch(() => undefined);
  if (!dpkgQuery) {
    const tools = ['samba', 'samba-tool', 'ldbadd', 'ldapmodify'];
    const found = await Promise.all(tools.map((t) => which(t).then(Boolean, () => false)));
    return found.every(Boolean) ? [] : PACKAGES;
  }
  const status = await Promise.all(
    PACKAGES.map((p) =>
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format syntax
      run(dpkgQuery, ['-W', '-f', '${db:Status-Status}', p]).then(
        ({ stdout }) => stdout.trim() === 'installed',
        () => false,
      ),
    ),
  );
  return PACKAGES.filter((_, i) => !status[i]);
}

async function ensurePackages(): Promise<void> {
  const missing = await missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${missing.join(' ')} missing: run .ci/deps (or apt-get install them)`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  await run('apt-get', [...lock, 'update', '-qq'], { env });
  await run('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
}

function entry(dn: string, attrs: [string, string][]): string {
  // every seeded value is plain ASCII: no base64 needed (RFC 2849 SAFE-STRING)
  return `dn: ${dn}\n${attrs.map(([a, v]) => `${a}: ${v}\n`).join('')}\n`;
}

function userEntry(u: SeededUser, disabled: boolean): string {
  return entry(u.dn, [
    ['objectClass', 'user'],
    ['sAMAccountName', u.sAMAccountName],
    ['givenName', u.givenName],
    ['sn', u.sn],
    ['displayName', u.displayName],
    ['mail', u.mail],
    ['userPrincipalName', u.mail],
    // AD accepts an enabled account without a password when added as the system (ldbadd);
    // hashing one per user would make seeding ~7x slower (Kerberos keys).
    ['userAccountControl', disabled ? '514' : '512'],
  ]);
}

function groupEntry(dn: string, name: string, members: string[]): string {
  return entry(dn, [
    ['objectClass', 'group'],
    ['sAMAccountName', name],
    ...members.map((m): [string, string] => ['member', m]),
  ]);
}

function seedLdif(seed: SambaSeed): string {
  const ou = (dn: string, name: string) =>
    entry(dn, [
      ['objectClass', 'organizationalUnit'],
      ['ou', name],
    ]);
  const out = [ou(USERS_DN, 'Staff'), ou(GROUPS_DN, 'Groups')];
  for (let i = 1; i <= seed.users; i++) {
    out.push(userEntry(seededUser(i), seed.disabledEvery > 0 && i % seed.disabledEvery === 0));
  }
  const big = Array.from({ length: seed.bigGroupMembers }, (_, i) => seededUser(i + 1).dn);
  out.push(groupEntry(seed.bigGroupDn, 'BigGroup', big));
  out.push(groupEntry(seed.innerGroupDn, 'Inner', [seed.nestedUserDn]));
  out.push(groupEntry(seed.outerGroupDn, 'Outer', [seed.innerGroupDn]));
  return out.join('');
}
