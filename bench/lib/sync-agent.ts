/**
 * The on-premises side of `npm run bench:sync`: an agent registered the way an administrator
 * registers one (registerAgent, createDataSource: agent-enabled LDAP source, no secrets at the
 * hub), its application.yaml, and the real `idhub agent` process, whose JSON log gives the time
 * each command spent in the agent (the LDAP page read).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDataSource, registerAgent } from '../../agent/gateway/registry.ts';
import type { Actor } from '../../api/identity/audit.ts';
import type { Db } from '../../db/client.ts';
import { writeBenchAgentConfig } from './agent-path.ts';
import type { BenchLdap } from './ldap-slapd.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA_SOURCE = 'bench-ldap';
export const BENCH_ACTOR: Actor = { type: 'system', id: 'bench-sync' };

export interface SyncAgent {
  pid: number;
  dataSourceId: string;
  /** Milliseconds the agent spent running each command, by command id (from its log). */
  runMs: Map<string, number>;
  stop(): Promise<void>;
}

/** One JSON log line of the agent (pino). */
interface LogLine {
  msg?: string;
  id?: string;
  ms?: number;
}

function watchLog(child: ChildProcess, runMs: Map<string, number>) {
  let tail = '';
  let partial = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    const text = d.toString();
    tail = (tail + text).slice(-8000);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        const log = JSON.parse(line) as LogLine;
        if (log.msg === 'command finished' && log.id && typeof log.ms === 'number') {
          runMs.set(log.id, log.ms);
        }
      } catch {
        /* not JSON */
      }
    }
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return { tail: () => tail, listeners };
}

/** Registers agent + data source, starts `idhub agent`, resolves once it is connected. */
export async function startSyncAgent(o: {
  db: Db;
  tenantId: string;
  hubUrl: string;
  ldap: BenchLdap;
  dir: string;
  timeoutMs: number;
}): Promise<SyncAgent> {
  const reg = await registerAgent(o.db.db, o.tenantId, BENCH_ACTOR, { name: 'bench-agent' });
  const ds = await createDataSource(o.db.db, o.tenantId, BENCH_ACTOR, {
    name: DATA_SOURCE,
    kind: 'ldap',
    agentEnabled: true,
    config: {},
  });
  const configFile = await writeBenchAgentConfig(o.dir, {
    hubUrl: o.hubUrl,
    tenantId: o.tenantId,
    credentials: reg,
    dataSource: DATA_SOURCE,
    ldap: o.ldap,
  });

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'api/cli.ts'), 'agent', '--config', configFile],
    { cwd: ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) throw new Error('could not start the agent process');
  const runMs = new Map<string, number>();
  const log = watchLog(child, runMs);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        log.listeners.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (/connected to the hub/.test(log.tail())) done();
      };
      const timer = setTimeout(
        () => done(new Error(`agent not connected within ${o.timeoutMs} ms:\n${log.tail()}`)),
        o.timeoutMs,
      );
      log.listeners.add(check);
      void exited.then(() => done(new Error(`agent exited:\n${log.tail()}`)));
      check();
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { pid: child.pid, dataSourceId: ds.id, runMs, stop };
}
