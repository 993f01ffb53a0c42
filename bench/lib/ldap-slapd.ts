import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../api/services/ports.ts';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../ldap/start-slapd.sh');

/** The directory a bench reads: what an agent's application.yaml would point at. */
export interface BenchLdap {
  url: string;
  /** A non-root service account (ACLs and size limits apply to it, as in a customer network). */
  bindDn: string;
  password: string;
  /** Search base holding exactly `users` inetOrgPerson entries (ou=people,<suffix>). */
  baseDn: string;
  suffix: string;
  /** cn=admin,<suffix>, same password: for benches that need to write (delta sync). */
  rootDn: string;
  users: number;
}

export interface BenchSlapd extends BenchLdap {
  pid: number;
  /** The instance's own directory (config, database, pid file); removed by stop. */
  dir: string;
  /** Seconds `slapadd -q -w` took for the whole LDIF, generation included (streamed). */
  loadSeconds: number;
  stop(): Promise<void>;
}

/** What bench/ldap/start-slapd.sh prints on its last stdout line. */
interface ScriptOutput extends BenchLdap {
  pid: number;
  dir: string;
  loadSeconds: number;
}

function parseOutput(stdout: string): ScriptOutput {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const o = JSON.parse(last) as Partial<ScriptOutput>;
  const strings = ['url', 'bindDn', 'password', 'baseDn', 'suffix', 'rootDn', 'dir'] as const;
  for (const k of strings) {
    if (typeof o[k] !== 'string') throw new Error(`start-slapd.sh printed no ${k}: ${last}`);
  }
  for (const k of ['users', 'pid', 'loadSeconds'] as const) {
    if (typeof o[k] !== 'number') throw new Error(`start-slapd.sh printed no ${k}: ${last}`);
  }
  return o as ScriptOutput;
}

/**
 * True while `pid` is still the slapd serving `dir`: slapd daemonizes, so we hold a pid, not a
 * child handle, and a pid recycled after slapd died must never be signalled.
 */
function isOurSlapd(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false; // gone (or not Linux: then we cannot tell, and do not signal)
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone already */
  }
}

/**
 * Starts a private slapd with `users` generated users through bench/ldap/start-slapd.sh (a shell
 * script on purpose: see its header). Nothing is left behind on any path: the script removes its
 * directory when it fails or is interrupted; once it succeeded, `stop` (and, as a last resort,
 * this process's exit) kills slapd and removes the directory.
 */
export async function startBenchSlapd(opts: {
  users: number;
  progress(msg: string): void;
}): Promise<BenchSlapd> {
  const port = await freePort();
  const child = spawn('bash', [SCRIPT], {
    env: { ...process.env, BENCH_LDAP_USERS: String(opts.users), PORT: String(port) },
    // stderr passes through: .ci/deps' install messages and slapadd errors belong in the log.
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, so an exit here can stop bash, the generator and slapadd at once:
    // signalling bash alone would wait for slapadd to finish before its trap runs.
    detached: true,
  });
  // Exiting while the script runs (signal, watchdog): SIGTERM to the group makes its trap
  // remove the directory (and a slapd it may already have started).
  const killScript = () => {
    if (child.pid !== undefined) signal(-child.pid, 'SIGTERM');
  };
  process.once('exit', killScript);
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  }).finally(() => process.off('exit', killScript));
  if (code !== 0) throw new Error(`bench/ldap/start-slapd.sh exited with ${code}`);
  const out = parseOutput(stdout);

  const { pid, dir } = out;
  // Last resort when the process exits without stop() (an uncaught error, process.exit).
  const onExit = () => {
    if (isOurSlapd(pid, dir)) signal(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async () => {
    process.off('exit', onExit);
    if (isOurSlapd(pid, dir)) {
      signal(pid, 'SIGTERM');
      const until = Date.now() + 5_000;
      while (isOurSlapd(pid, dir) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      if (isOurSlapd(pid, dir)) {
        opts.progress(`slapd ${pid} ignored SIGTERM for 5 s, killing it`);
        signal(pid, 'SIGKILL');
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  return { ...out, stop };
}
