/**
 * Real hub and agent processes for end-to-end tests: `idhub serve` against the run's private
 * PostgreSQL and Redis, `idhub agent --config …`. Each captures its output so a test can wait
 * for a log line, and stops (or is killed, paused, resumed) like a process in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const cli = path.resolve(import.meta.dirname, '../api/cli.ts');

export interface TestProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in output printed after `from` (an offset). */
  waitFor(pattern: RegExp, opts?: { timeoutMs?: number; from?: number }): Promise<RegExpExecArray>;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

function track(child: ChildProcess): TestProcess {
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    child,
    output: () => out,
    waitFor(pattern, opts = {}) {
      const from = opts.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out.slice(from));
          if (!m) return false;
          done();
          resolve(m);
          return true;
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`no ${pattern} within ${opts.timeoutMs ?? 30_000} ms:\n${out.slice(-4000)}`),
          );
        }, opts.timeoutMs ?? 30_000);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = () => void check();
        listeners.add(listener);
        check();
      });
    },
    signal: (sig) => child.kill(sig),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    exited,
  };
}

export { freePort } from '../api/services/ports.ts';

export interface HubProcess extends TestProcess {
  url: string;
}

/** `idhub serve` on the given services; resolves once it listens. */
export async function startHubProcess(env: Record<string, string>): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = track(child);
  const m = await p.waitFor(/"url":"(https?:\/\/[^"]+)"/, { timeoutMs: 60_000 });
  return { ...p, url: m[1] as string };
}

/** `idhub agent --config <file>`; resolves at once (wait for a log line to know more). */
export function startAgentProcess(
  configFile: string,
  env: Record<string, string> = {},
): TestProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'agent', '--config', configFile], {
    env: { ...process.env, LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child);
}
