/**
 * The agent-path rows of `npm run bench:agent`: the same paged read as the direct rows, but
 * issued by the hub's `AgentGateway` and served by a real agent process (`idhub agent`) over its
 * SSE stream — hub → SSE → agent → slapd → result POST → hub → caller. The hub runs in this
 * process on private PostgreSQL + Redis; its `services.gateway` is the caller (the sync worker
 * and the agent's stream on one replica; BENCH_AGENT_HUB=child runs it as `idhub serve` with the
 * caller as a second replica here). Also: `ping` round trips against an HTTP /healthz
 * floor, and the peak RSS of hub and agent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pino from 'pino';
import { stringify } from 'yaml';
import { hashAgentPassword } from '../../agent/gateway/credentials.ts';
import { gatewayFromConfig } from '../../agent/gateway/index.ts';
import type { AgentGateway } from '../../agent/gateway/types.ts';
import { loadConfig } from '../../api/config.ts';
import { createTenant } from '../../api/tenants.ts';
import { createDb, type Db } from '../../db/client.ts';
import type { AgentBenchContext, AgentBenchLdap } from '../agent.bench.ts';
import {
  type HubOptions,
  type ProcMemory,
  procMemory,
  startHubChild,
  startHubInProcess,
} from './hub.ts';
import { type ReadRun, readRow, summarizeRuns } from './ldap-reads.ts';
import { type BenchServices, startBenchServices } from './services.ts';
import { summarize, timeSequential } from './stats.ts';
import { fmt, latencyCell, type Row } from './table.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA_SOURCE = 'bench-ldap';
/** Hub DB pool: the gateway's commands are sequential, a few connections are plenty. */
const POOL = 10;
const AGENT_START_MS = 60_000;
const PING_WARMUP = 20;
const PING_CALLS = 500;
const PING_P50_BUDGET_MS = 5;
const RSS_BUDGET_MB = 400;
/**
 * `in-process` (default): the hub runs in this process and its own gateway is the caller — the
 * worker and the agent's stream on one replica. `child`: the hub is `idhub serve` in its own
 * process (its RSS is the hub's alone) and the caller is a second replica here, so every command
 * also crosses replicas through Redis.
 */
const HUB_MODE = process.env.BENCH_AGENT_HUB === 'child' ? 'child' : 'in-process';
/**
 * BENCH_AGENT_PROFILE=<dir>: CPU profiles of the timed reads into <dir> — this process's (the
 * in-process hub + caller, or the caller alone in child mode) via the inspector, and the agent's
 * whole life via `node --cpu-prof` (written when it exits). Open them in Chrome DevTools.
 */
const PROFILE_DIR = process.env.BENCH_AGENT_PROFILE
  ? path.resolve(process.env.BENCH_AGENT_PROFILE)
  : undefined;

/**
 * Resets this process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0, `clear_refs` 5), so
 * the peak read later is the hub's and not the direct reads' that ran here before it.
 */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** One JSON log line of the agent about a command (pino: `time` in epoch ms). */
interface AgentLogLine {
  time: number;
  msg: string;
  id?: string;
  ms?: number;
}

interface AgentProcess {
  child: ChildProcess;
  pid: number;
  /** Command log lines by command id: when it was received and finished, and its run time. */
  commands: Map<string, { received?: number; finished?: number; runMs?: number }>;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** `idhub agent --config <file>` from the repository root; its stdout parsed line by line. */
/** The bench agent's application.yaml (basic auth, loopback only, one LDAP data source). */
export async function writeBenchAgentConfig(
  dir: string,
  o: {
    hubUrl: string;
    tenantId: string;
    credentials: { userName: string | null; password?: string | null };
    dataSource: string;
    ldap: { url: string; bindDn: string; password: string; baseDn: string };
  },
): Promise<string> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const configFile = path.join(dir, 'application.yaml');
  const yaml = {
    urls: [o.hubUrl],
    tenantId: o.tenantId,
    userName: o.credentials.userName,
    password: o.credentials.password,
    allowHosts: ['127.0.0.1'],
    dataSources: {
      [o.dataSource]: {
        type: 'ldap',
        url: o.ldap.url,
        bindDn: o.ldap.bindDn,
        password: o.ldap.password,
        baseDn: o.ldap.baseDn,
      },
    },
  };
  await fs.writeFile(configFile, stringify(yaml), { mode: 0o600 });
  return configFile;
}

function startAgent(configFile: string): AgentProcess {
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', path.join(ROOT, 'api/cli.ts'), 'agent', '--config', configFile],
    { cwd: ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) throw new Error('could not start the agent process');
  const pid = child.pid;
  let tail = '';
  let partial = '';
  const listeners = new Set<() => void>();
  const commands: AgentProcess['commands'] = new Map();
  const onLine = (line: string) => {
    if (!line.startsWith('{')) return;
    let log: AgentLogLine;
    try {
      log = JSON.parse(line) as AgentLogLine;
    } catch {
      return;
    }
    if (!log.id || (log.msg !== 'command received' && log.msg !== 'command finished')) return;
    const c = commands.get(log.id) ?? {};
    if (log.msg === 'command received') c.received = log.time;
    else {
      c.finished = log.time;
      c.runMs = log.ms;
    }
    commands.set(log.id, c);
  };
  const onData = (d: Buffer) => {
    const text = d.toString();
    tail = (tail + text).slice(-8000);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If this process exits without stopping the agent (a crash, process.exit), the agent goes too.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  return {
    child,
    pid,
    commands,
    waitFor(pattern, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (pattern.test(tail)) done();
        };
        const timer = setTimeout(
          () => done(new Error(`agent: no ${pattern} within ${timeoutMs} ms:\n${tail}`)),
          timeoutMs,
        );
        listeners.add(check);
        void exited.then(() =>
          done(new Error(`agent exited (code ${child.exitCode ?? child.signalCode}):\n${tail}`)),
        );
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Registers an agent (scrypt-hashed basic password) and an agent-enabled LDAP data source. */
async function registerAgentAndSource(db: Db, tenantId: string) {
  const { sql } = db;
  const userName = `bench_${randomBytes(6).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const [agent] = await sql<{ id: string }[]>`
    insert into agents (tenant_id, name, agent_group, user_name, password_hash)
    values (${tenantId}, 'bench-agent', 'default', ${userName}, ${await hashAgentPassword(password)})
    returning id`;
  const [ds] = await sql<{ id: string }[]>`
    insert into data_sources (tenant_id, name, kind, agent_enabled, agent_group, config)
    values (${tenantId}, ${DATA_SOURCE}, 'ldap', true, 'default', '{}'::jsonb)
    returning id`;
  if (!agent || !ds) throw new Error('agent or data source insert returned nothing');
  return { agentId: agent.id, dataSourceId: ds.id, userName, password };
}

/** One page of a timed read as the caller saw it (epoch ms, sub-ms precision). */
interface PageTiming {
  asked: number;
  got: number;
}

/** Profiles `fn` in this process when BENCH_AGENT_PROFILE is set; returns the file written. */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<[T, string?]> {
  if (!PROFILE_DIR) return [await fn()];
  await fs.mkdir(PROFILE_DIR, { recursive: true });
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const value = await fn();
    const { profile } = await session.post('Profiler.stop');
    const file = path.join(PROFILE_DIR, `${name}-${process.pid}.cpuprofile`);
    await fs.writeFile(file, JSON.stringify(profile));
    return [value, file];
  } finally {
    session.disconnect();
  }
}

const epochMs = () => performance.timeOrigin + performance.now();

/** A full paged read through the gateway; every value touched, like the direct reads. */
async function gatewayRead(
  gateway: AgentGateway,
  tenantId: string,
  dataSourceId: string,
  ldap: AgentBenchLdap,
  pages: PageTiming[],
): Promise<ReadRun> {
  const t = performance.now();
  let entries = 0;
  let values = 0;
  const iterator = gateway
    .search(tenantId, dataSourceId, {
      filter: ldap.filter,
      attributes: [...ldap.attributes],
      pageSize: ldap.pageSize,
    })
    [Symbol.asyncIterator]();
  for (;;) {
    const asked = epochMs();
    const next = await iterator.next();
    if (next.done) break;
    pages.push({ asked, got: epochMs() });
    for (const e of next.value) {
      entries++;
      for (const v of Object.values(e.attributes)) values += v.length;
    }
  }
  if (values < entries) throw new Error(`agent path read ${entries} entries, ${values} values`);
  return { seconds: (performance.now() - t) / 1000, entries };
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/**
 * Where a page's time goes, medians over all timed pages: the caller's timestamps, the command
 * row's created_at/completed_at, the agent's `command received`/`command finished` log lines.
 */
async function pageBreakdown(
  db: Db,
  tenantId: string,
  agent: AgentProcess,
  pages: PageTiming[],
): Promise<string> {
  const rows = await db.sql<{ id: string; created: number; completed: number }[]>`
    select id, extract(epoch from created_at) * 1000 as created,
           extract(epoch from completed_at) * 1000 as completed
    from agent_commands where tenant_id = ${tenantId} and kind = 'search' order by seq`;
  // Sequential pages: the n-th search command is the n-th page the caller received.
  const timed = rows.slice(-pages.length);
  const stages: [string, number[]][] = [
    ['caller → command stored (data source, live agent, insert)', []],
    ['→ agent received it (lease, SSE)', []],
    ['agent run (LDAP page, result checked)', []],
    ['→ result being stored (encode, POST, hub parse + validate)', []],
    ['→ caller has the page (PostgreSQL write, wake-up, read back)', []],
    ['total', []],
  ];
  timed.forEach((r, i) => {
    const p = pages[i];
    const a = agent.commands.get(r.id);
    if (!p || !a?.received || !a.finished) return;
    const created = Number(r.created);
    const completed = Number(r.completed);
    const values = [
      created - p.asked,
      a.received - created,
      a.runMs ?? a.finished - a.received,
      completed - a.finished,
      p.got - completed,
      p.got - p.asked,
    ];
    for (const [k, v] of values.entries()) stages[k]?.[1].push(v);
  });
  return stages.map(([k, v]) => `${k} ${fmt.ms(median(v))}`).join(', ');
}

/** The hub under test and the gateway issuing the commands (see HUB_MODE). */
interface HubUnderTest {
  url: string;
  gateway: AgentGateway;
  db: Db;
  /** The hub's memory now (in-process: this process's, peak since the hub started). */
  memory(): ProcMemory;
  /** Row name and baseline cell of the hub memory row. */
  label: string;
  idleCell: string;
  idleRssMb: number;
  /**
   * `own`: the figure is the hub's alone. `upper-bound`: it includes what else runs in this
   * process, so it can prove the budget met but not missed.
   */
  measures: 'own' | 'upper-bound';
}

async function startHub(bench: BenchServices, ctx: AgentBenchContext): Promise<HubUnderTest> {
  const opts: HubOptions = {
    databaseUrl: bench.databaseUrl,
    redisUrl: bench.redisUrl,
    poolSize: POOL,
    dataDir: path.join(bench.dir, 'hub'),
  };
  if (HUB_MODE === 'child') {
    const hub = await startHubChild(opts);
    ctx.onCleanup(() => hub.stop());
    // The caller: a second replica in this process, on the same PostgreSQL and Redis.
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const db = createDb(bench.databaseUrl, { max: POOL });
    const redis = new Redis(bench.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    const gateway = gatewayFromConfig(config, db, redis, pino({ level: 'silent' }));
    ctx.onCleanup(async () => {
      await gateway.close();
      await db.close();
      redis.disconnect();
    });
    const idle = hub.memory();
    const memory = (): ProcMemory => {
      const m = hub.memory();
      return { rssMb: m.rssMb, peakMb: m.peakMb ?? Number.NaN };
    };
    return {
      url: hub.url,
      gateway,
      db,
      memory,
      label:
        'Hub peak RSS (`idhub serve` child process VmHWM; the caller is a second replica in the bench process)',
      idleCell: `hub idle after start: RSS ${fmt.mb(idle.rssMb)}`,
      idleRssMb: idle.rssMb,
      measures: 'own',
    };
  }
  const before = procMemory('self');
  const reset = resetPeakRss();
  const hub = await startHubInProcess(opts);
  ctx.onCleanup(() => hub.stop());
  const services = hub.services;
  if (!services) throw new Error('the in-process hub does not expose its services');
  return {
    url: hub.url,
    gateway: services.gateway,
    db: services.db,
    memory: () => procMemory('self'),
    label: reset
      ? 'Hub peak RSS (in-process: bench process = hub + caller + heap left by the direct reads; peak reset when the hub started)'
      : 'Hub peak RSS (in-process: bench process = hub + caller + the direct reads run before)',
    idleCell:
      `bench process when the hub started: RSS ${fmt.mb(before.rssMb)}` +
      (reset ? ` (its peak until then, the direct reads: ${fmt.mb(before.peakMb)})` : ''),
    idleRssMb: before.rssMb,
    measures: 'upper-bound',
  };
}

/** An upper bound passes when under budget; over it, it is inconclusive (not a FAIL). */
function hubMemoryVerdict(peakMb: number, measures: HubUnderTest['measures']) {
  const met = peakMb <= RSS_BUDGET_MB;
  if (measures === 'own' || met) return { budget: `peak ≤ ${RSS_BUDGET_MB} MB`, pass: met };
  return {
    budget: `peak ≤ ${RSS_BUDGET_MB} MB: inconclusive in-process (BENCH_AGENT_HUB=child measures the hub alone)`,
  };
}

/** The agent path's rows: entries/s against the ldapts baseline, ping, peak RSS. */
export async function measureAgentPath(
  ldap: AgentBenchLdap,
  ctx: AgentBenchContext,
): Promise<Row[]> {
  ctx.progress('agent path: starting embedded PostgreSQL and redis-server');
  const bench = await startBenchServices();
  ctx.onCleanup(() => bench.stop());

  const hub = await startHub(bench, ctx);
  const { gateway, db } = hub;

  const tenant = await createTenant(db.db, `bench-agent-${randomBytes(4).toString('hex')}`);
  const reg = await registerAgentAndSource(db, tenant.id);
  const configFile = await writeBenchAgentConfig(path.join(bench.dir, 'agent'), {
    hubUrl: hub.url,
    tenantId: tenant.id,
    credentials: reg,
    dataSource: DATA_SOURCE,
    ldap,
  });

  ctx.progress(`agent path: hub at ${hub.url} (${HUB_MODE}); starting \`idhub agent\``);
  const agent = startAgent(configFile);
  ctx.onCleanup(() => agent.stop());
  await agent.waitFor(/connected to the hub/, AGENT_START_MS);
  const agentIdle = procMemory(agent.pid);
  ctx.progress(`agent path: agent ${agent.pid} connected`);

  const runs: ReadRun[] = [];
  const pages: PageTiming[] = [];
  const [, profile] = await profiled(HUB_MODE === 'child' ? 'caller' : 'hub', async () => {
    for (let i = 1; i <= ctx.runs; i++) {
      const run = await gatewayRead(gateway, tenant.id, reg.dataSourceId, ldap, pages);
      if (run.entries !== ldap.users) {
        throw new Error(
          `agent path returned ${run.entries} entries, the directory holds ${ldap.users}`,
        );
      }
      runs.push(run);
      ctx.progress(`agent path run ${i}/${ctx.runs}: ${fmt.s(run.seconds)}`);
    }
  });
  if (profile) ctx.progress(`agent path: CPU profile of the reads in ${profile}`);
  const measured = summarizeRuns(runs, ldap.users);
  const agentAfterReads = procMemory(agent.pid);
  ctx.progress(
    `agent path, median per page (${pages.length} pages): ` +
      (await pageBreakdown(db, tenant.id, agent, pages)),
  );

  // Ping: the command round trip with no connector work, against an HTTP round trip to the hub.
  const ping = () => gateway.call(tenant.id, reg.dataSourceId, 'ping', {});
  const healthz = async () => {
    const res = await fetch(`${hub.url}/healthz`);
    if (!res.ok) throw new Error(`/healthz answered ${res.status}`);
    await res.arrayBuffer();
  };
  await timeSequential(PING_WARMUP, ping);
  await timeSequential(PING_WARMUP, healthz);
  const pings = summarize(await timeSequential(PING_CALLS, ping));
  const floor = summarize(await timeSequential(PING_CALLS, healthz));
  ctx.progress(`ping ${latencyCell(pings)}; GET /healthz ${latencyCell(floor)}`);

  const hubMem = hub.memory();
  const agentMem = procMemory(agent.pid);
  const agentPeak = Math.max(agentAfterReads.peakMb, agentMem.peakMb);
  return [
    readRow(
      `Agent path (hub → SSE → agent → slapd; hub ${HUB_MODE === 'child' ? 'a child process, caller another replica' : 'in-process, caller on the same replica'})`,
      measured,
      ctx.baseline,
      0.5,
    ),
    {
      name: `\`ping\` round trip via the agent (${PING_CALLS} sequential, after ${PING_WARMUP} warm-up)`,
      hub: latencyCell(pings),
      baseline: `GET /healthz same hub: ${latencyCell(floor)}`,
      ratio: fmt.ratio(pings.p50 / floor.p50, 'p50'),
      budget: `p50 ≤ ${PING_P50_BUDGET_MS} ms`,
      pass: pings.p50 <= PING_P50_BUDGET_MS,
    },
    {
      name: hub.label,
      hub: `peak ${fmt.mb(hubMem.peakMb)} · RSS now ${fmt.mb(hubMem.rssMb)}`,
      baseline: hub.idleCell,
      ratio: fmt.ratio(hubMem.peakMb / hub.idleRssMb, 'RSS'),
      ...hubMemoryVerdict(hubMem.peakMb, hub.measures),
    },
    {
      name: 'Agent peak RSS (`idhub agent` process VmHWM, after the reads and pings)',
      hub: `peak ${fmt.mb(agentPeak)} · RSS now ${fmt.mb(agentMem.rssMb)}`,
      baseline: `connected, idle: RSS ${fmt.mb(agentIdle.rssMb)}`,
      ratio: fmt.ratio(agentPeak / agentIdle.rssMb, 'RSS'),
      budget: `peak ≤ ${RSS_BUDGET_MB} MB`,
      pass: agentPeak <= RSS_BUDGET_MB,
    },
  ];
}
