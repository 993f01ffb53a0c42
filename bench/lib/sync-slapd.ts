/**
 * The directory of `npm run bench:sync`: bench/ldap/start-slapd.sh's slapd (users loaded with
 * `slapadd -q -w`), restarted once with the ppolicy module and overlay added offline
 * (`slapmodify -n0`), so entries can be locked with `pwdAccountLockedTime` as ppolicy does —
 * what the import_inactive job selects on OpenLDAP. Plus the untimed writes the bench makes
 * between runs (ldapmodify as the rootdn).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type BenchSlapd, startBenchSlapd } from './ldap-slapd.ts';

const SBIN = '/usr/sbin';
/** ppolicy's "locked until an administrator unlocks it" value. */
export const LOCKED_FOREVER = '000001010000Z';

export interface SyncSlapd extends BenchSlapd {
  /** The rootdn's password in a file (ldapmodify -y), and the reader's for ldapsearch. */
  rootPasswordFile: string;
  readerPasswordFile: string;
}

/** The distinguished name of generated user `i` (1-based), as gen-ldif.mjs writes it. */
export const userUid = (i: number) => `u${String(i).padStart(7, '0')}`;
const userDn = (slapd: SyncSlapd, i: number) => `uid=${userUid(i)},${slapd.baseDn}`;

/** Runs a program to completion with `input` on its stdin; rejects on a non-zero exit. */
export async function runTool(cmd: string, args: string[], input = ''): Promise<string> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
  });
  child.stderr.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
  });
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${path.basename(cmd)} exited with ${code}:\n${out}`);
  return out;
}

const slapdPid = (dir: string): number =>
  Number(readFileSync(path.join(dir, 'run', 'slapd.pid'), 'utf8').trim());

function isSlapdOf(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

async function stopPid(pid: number, dir: string): Promise<void> {
  if (!isSlapdOf(pid, dir)) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 10_000;
  while (isSlapdOf(pid, dir) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (isSlapdOf(pid, dir)) process.kill(pid, 'SIGKILL');
}

/** Module first: the overlay's object class exists only once the module is loaded. */
const PPOLICY_MODULE = `dn: cn=module{0},cn=config
changetype: modify
add: olcModuleLoad
olcModuleLoad: ppolicy
`;
const PPOLICY_OVERLAY = `dn: olcOverlay={1}ppolicy,olcDatabase={1}mdb,cn=config
changetype: add
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {1}ppolicy
`;

/**
 * Starts the bench slapd with `users` users and ppolicy enabled. start-slapd.sh does not load
 * ppolicy, and its cn=config is writable offline only, hence the stop / slapmodify / start.
 */
export async function startSyncSlapd(opts: {
  users: number;
  progress(msg: string): void;
}): Promise<SyncSlapd> {
  const base = await startBenchSlapd(opts);
  const { dir } = base;
  const config = path.join(dir, 'slapd.d');
  let pid = base.pid;
  const stop = async () => {
    process.off('exit', onExit);
    // A restarted daemon whose pid we never learnt (start-up failed half way) has a pid file.
    let current = pid;
    try {
      current = slapdPid(dir);
    } catch {
      /* no pid file: stopped already, or never started */
    }
    await stopPid(current, dir);
    await base.stop(); // removes the directory
  };
  const onExit = () => {
    if (isSlapdOf(pid, dir)) process.kill(pid, 'SIGKILL');
  };
  process.once('exit', onExit);
  try {
    await stopPid(base.pid, dir);
    for (const ldif of [PPOLICY_MODULE, PPOLICY_OVERLAY]) {
      await runTool(`${SBIN}/slapmodify`, ['-n0', '-F', config], ldif);
    }
    const rootPasswordFile = path.join(dir, 'root.pw');
    const readerPasswordFile = path.join(dir, 'reader.pw');
    // No newline: -y reads the whole file.
    await fs.writeFile(rootPasswordFile, base.password, { mode: 0o600 });
    await fs.writeFile(readerPasswordFile, base.password, { mode: 0o600 });
    await startDaemon(base.url, config);
    const slapd: SyncSlapd = { ...base, stop, rootPasswordFile, readerPasswordFile };
    // The daemon writes its pid file once it serves; answering first, then the pid.
    await waitAnswering(slapd);
    pid = slapdPid(dir);
    slapd.pid = pid;
    return slapd;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** slapd daemonizes: the process we start exits once the daemon runs (and wrote its pid). */
async function startDaemon(url: string, config: string): Promise<void> {
  const child = spawn(`${SBIN}/slapd`, ['-h', `ldap://${new URL(url).host}/`, '-F', config], {
    stdio: 'ignore',
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`slapd did not restart (exit ${code})`);
}

async function waitAnswering(slapd: SyncSlapd): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      const args = ['-x', '-H', slapd.url, '-D', slapd.bindDn, '-y', slapd.readerPasswordFile];
      await runTool('ldapsearch', [...args, '-b', slapd.suffix, '-s', 'base', '-LLL', 'dn']);
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Applies `ldif` (a stream of modify records) as the rootdn, in one ldapmodify process. */
async function ldapmodify(slapd: SyncSlapd, ldif: string): Promise<void> {
  const args = ['-x', '-H', slapd.url, '-D', slapd.rootDn, '-y', slapd.rootPasswordFile];
  await runTool('ldapmodify', args, ldif);
}

/** `count` users spread evenly over 1…users (every users/count-th, starting at `offset`). */
export function spreadUsers(users: number, count: number, offset = 0): number[] {
  const step = Math.floor(users / count);
  if (step < 1) throw new Error(`cannot pick ${count} of ${users} users`);
  return Array.from({ length: count }, (_, k) => k * step + 1 + (offset % step));
}

/** Replaces the `title` of the given users (a value no generated entry has). */
export async function retitle(slapd: SyncSlapd, ids: number[], title: string): Promise<void> {
  const ldif = ids
    .map(
      (i) => `dn: ${userDn(slapd, i)}\nchangetype: modify\nreplace: title\ntitle: ${title}\n-\n\n`,
    )
    .join('');
  await ldapmodify(slapd, ldif);
}

/** Locks the given users as ppolicy does for an administrative lock. */
export async function lockUsers(slapd: SyncSlapd, ids: number[]): Promise<void> {
  const ldif = ids
    .map(
      (i) =>
        `dn: ${userDn(slapd, i)}\nchangetype: modify\nadd: pwdAccountLockedTime\n` +
        `pwdAccountLockedTime: ${LOCKED_FOREVER}\n-\n\n`,
    )
    .join('');
  await ldapmodify(slapd, ldif);
}

/** How many entries under the base DN match `filter` (as the non-root reader, paged). */
export async function countMatching(slapd: SyncSlapd, filter: string): Promise<number> {
  const args = ['-x', '-H', slapd.url, '-D', slapd.bindDn, '-y', slapd.readerPasswordFile];
  const out = await runTool('ldapsearch', [
    ...args,
    '-E',
    'pr=1000/noprompt',
    '-b',
    slapd.baseDn,
    '-s',
    'sub',
    filter,
    '1.1',
  ]);
  const total = [...out.matchAll(/^# numEntries: (\d+)$/gm)].at(-1)?.[1];
  return total === undefined ? 0 : Number(total);
}
