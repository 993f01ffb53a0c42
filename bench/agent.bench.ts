/**
 * `npm run bench:agent` — reading a 100k-user directory, against the DESIGN.md budget "agent
 * path ≥ 50% of a direct ldapts paged read". A private slapd is loaded for the run, then the
 * same paged read is timed with ldapsearch (the C floor), ldapts (the baseline: the floor for
 * Node) and the project's LDAP connector called directly; the agent path (hub + agent, SSE
 * commands) is measured by a function passed to `runAgentBench`, against the same baseline.
 * A benchmark, not a test: it exits 0 when a budget fails, and says so.
 *
 * Env: BENCH_LDAP_USERS (100000), BENCH_LDAP_RUNS (timed runs per read, median reported: 3).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type ProcMemory, procMemory } from './lib/hub.ts';
import {
  connectorRead,
  expectAll,
  ldapsearchCount,
  ldapsearchRead,
  ldaptsRead,
  type Measured,
  READ,
  type ReadRun,
  readRow,
  summarizeRuns,
} from './lib/ldap-reads.ts';
import { type BenchLdap, type BenchSlapd, startBenchSlapd } from './lib/ldap-slapd.ts';
import { budgetSummary, fmt, markdownTable, type Row } from './lib/table.ts';

export { type Measured, READ, readRow } from './lib/ldap-reads.ts';
export type { Row } from './lib/table.ts';

const USERS = Number(process.env.BENCH_LDAP_USERS ?? 100_000);
const RUNS = Number(process.env.BENCH_LDAP_RUNS ?? 3);
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new Error(`BENCH_LDAP_RUNS must be ≥ 1, got ${RUNS}`);
/** The whole run is bounded; past this everything is stopped and the run fails. */
const WATCHDOG_MS = 5 * 60_000;

/** The directory the agent path must read: the same entries, filter, attributes, page size. */
export interface AgentBenchLdap extends BenchLdap {
  filter: string;
  attributes: readonly string[];
  pageSize: number;
}

export interface AgentBenchContext {
  /** The direct ldapts paged read of this run: the baseline column of every row. */
  baseline: Measured;
  /** The LDAP connector called directly (no agent, no hub), same run. */
  direct: Measured;
  /** Timed runs per read (BENCH_LDAP_RUNS): measure the agent path as often, report the median. */
  runs: number;
  progress(msg: string): void;
  /** Registers a stop; stops run last first at the end, on errors, on the watchdog and signals. */
  onCleanup(fn: () => Promise<void>): void;
}

/** Starts what the agent path needs (hub, agent), measures it, returns its rows. */
export type MeasureAgentPath = (ldap: AgentBenchLdap, ctx: AgentBenchContext) => Promise<Row[]>;

const MB = 1024 * 1024;

/** This process's VmRSS / VmHWM (peak) in MB; Node's own figure where /proc is absent. */
function selfMemory(): ProcMemory {
  const linux = procMemory('self');
  if (Number.isFinite(linux.rssMb)) return linux;
  const rss = process.memoryUsage().rss / MB;
  return { rssMb: rss, peakMb: rss };
}

async function slapdVersion(): Promise<string> {
  try {
    const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
    const { stderr } = await promisify(execFile)('slapd', ['-VV'], { env });
    return /slapd ([\w.+~-]+)/.exec(stderr)?.[1] ?? 'slapd';
  } catch {
    return 'slapd';
  }
}

/**
 * The whole bench: slapd up, baselines, the agent path when `measureAgentPath` is given, the
 * report on stdout, everything stopped. Resolves with the rows; rejects after cleanup.
 */
export async function runAgentBench(
  opts: { measureAgentPath?: MeasureAgentPath; watchdogMs?: number } = {},
): Promise<Row[]> {
  const started = performance.now();
  const progress = (msg: string) =>
    process.stderr.write(
      `[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`,
    );

  const cleanups: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  /** Stops what was started, last first; every caller (end, error, signal) awaits the same run. */
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const fn of cleanups.splice(0).reverse()) {
        await fn().catch((e: unknown) =>
          progress(`cleanup: ${e instanceof Error ? e.message : String(e)}`),
        );
      }
    })();
    return cleaning;
  };

  const watchdogMs = opts.watchdogMs ?? WATCHDOG_MS;
  const watchdog = setTimeout(() => {
    progress(`watchdog: still running after ${watchdogMs / 1000} s, stopping`);
    cleanup().finally(() => process.exit(1));
  }, watchdogMs);
  watchdog.unref();
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping what the bench started`);
    cleanup().finally(() => process.exit(130));
  };
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const s of signals) process.once(s, onSignal);

  try {
    progress(
      `starting slapd with ${USERS.toLocaleString('en-US')} users (bench/ldap/start-slapd.sh)`,
    );
    const slapd: BenchSlapd = await startBenchSlapd({ users: USERS, progress });
    cleanups.push(() => slapd.stop());
    progress(`slapd ${slapd.pid} at ${slapd.url}, loaded in ${fmt.s(slapd.loadSeconds)}`);
    const ldap: AgentBenchLdap = {
      url: slapd.url,
      bindDn: slapd.bindDn,
      password: slapd.password,
      baseDn: slapd.baseDn,
      suffix: slapd.suffix,
      rootDn: slapd.rootDn,
      users: slapd.users,
      ...READ,
    };

    const rows: Row[] = [];
    const direct = await directReads(ldap, slapd.dir, progress);
    rows.push(...direct.rows);
    // Before the agent path: an in-process hub would otherwise count in this peak.
    rows.push(memoryRow(direct.idle));
    if (opts.measureAgentPath) {
      progress('measuring the agent path');
      const ctx: AgentBenchContext = {
        baseline: direct.ldapts,
        direct: direct.connector,
        runs: RUNS,
        progress,
        onCleanup: (fn) => cleanups.push(fn),
      };
      rows.push(...(await opts.measureAgentPath(ldap, ctx)));
    }
    report(rows, slapd, await slapdVersion(), !opts.measureAgentPath, started);
    return rows;
  } finally {
    await cleanup();
    clearTimeout(watchdog);
    for (const s of signals) process.off(s, onSignal);
  }
}

/**
 * The three direct reads, interleaved run by run (ldapsearch, ldapts, connector, ldapsearch …)
 * so a slow spell on a shared machine hits all three alike; each row is the median run.
 */
async function directReads(ldap: BenchLdap, dir: string, progress: (msg: string) => void) {
  const passwordFile = path.join(dir, 'reader.pw');
  await fs.writeFile(passwordFile, ldap.password, { mode: 0o600 }); // no newline: -y reads it all
  progress('ldapsearch count run (checks every entry comes back; warms slapd)');
  expectAll('ldapsearch -E pr', await ldapsearchCount(ldap, passwordFile), ldap);
  const idle = selfMemory();

  const runs = { ldapsearch: [] as ReadRun[], ldapts: [] as ReadRun[], connector: [] as ReadRun[] };
  for (let i = 1; i <= RUNS; i++) {
    runs.ldapsearch.push(await ldapsearchRead(ldap, passwordFile));
    const viaLdapts = await ldaptsRead(ldap);
    expectAll('ldapts searchPaginated', viaLdapts.entries, ldap);
    runs.ldapts.push(viaLdapts);
    const viaConnector = await connectorRead(ldap);
    expectAll('LDAP connector', viaConnector.entries, ldap);
    runs.connector.push(viaConnector);
    const s = (r: ReadRun[]) => fmt.s(r.at(-1)?.seconds ?? Number.NaN);
    progress(
      `run ${i}/${RUNS}: ldapsearch ${s(runs.ldapsearch)}, ldapts ${s(runs.ldapts)}, connector ${s(runs.connector)}`,
    );
  }
  const ldapsearch = summarizeRuns(runs.ldapsearch, ldap.users);
  const ldapts = summarizeRuns(runs.ldapts, ldap.users);
  const connector = summarizeRuns(runs.connector, ldap.users);
  const rows: Row[] = [
    readRow(
      `\`ldapsearch -E pr=${READ.pageSize}\` (C client, output to /dev/null)`,
      ldapsearch,
      ldapts,
    ),
    readRow('ldapts `searchPaginated` (baseline)', ldapts, ldapts),
    readRow('idhub LDAP connector, direct (no agent)', connector, ldapts),
  ];
  return { rows, ldapts, connector, idle };
}

/** This process's memory: the ldapts and connector reads ran here (ldapsearch is a child). */
function memoryRow(idle: { rssMb: number }): Row {
  const now = selfMemory();
  return {
    name: 'Bench process memory (ldapts + connector reads; one page in memory at a time)',
    hub: `peak ${fmt.mb(now.peakMb)} · RSS now ${fmt.mb(now.rssMb)}`,
    baseline: `before the reads: RSS ${fmt.mb(idle.rssMb)}`,
    ratio: fmt.ratio(now.peakMb / idle.rssMb, 'RSS'),
  };
}

function report(
  rows: Row[],
  slapd: BenchSlapd,
  version: string,
  agentPending: boolean,
  started: number,
): void {
  const budgets = budgetSummary(rows);
  const out = [
    '',
    `## Agent benchmark: paged LDAP read (${slapd.users.toLocaleString('en-US')} users)`,
    '',
    `${os.cpus().length} cores, Node ${process.version}; private slapd ${version} (mdb, loopback), ` +
      `bound as a non-root service account; subtree \`${READ.filter}\`, ${READ.attributes.length} attributes ` +
      `(${READ.attributes.join(', ')}), pages of ${READ.pageSize}; median of ${RUNS} runs, interleaved, ` +
      'connect + bind included.',
    `Directory load: ${fmt.s(slapd.loadSeconds)} (LDIF generated and streamed into \`slapadd -q -w\`).`,
    '',
    markdownTable(rows, {
      hub: 'Measured',
      baseline: 'Baseline: ldapts paged read (same run)',
      ratio: 'Measured / baseline',
    }),
    '',
    'Budgets:',
    budgets || '(none measured in this run)',
    ...(agentPending
      ? [
          '',
          'Agent path: pending. `runAgentBench({ measureAgentPath })` adds its rows (entries/s through ' +
            'hub + agent against the ldapts baseline, budget ≥ 0.50×; ping p50 ≤ 5 ms).',
        ]
      : []),
    '',
    `Total bench time ${fmt.s((performance.now() - started) / 1000)}.`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

const isMain =
  process.argv[1] !== undefined &&
  pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url;

if (isMain) {
  try {
    // Loaded only when run: importing this module (runAgentBench, its types) needs no hub code.
    const { measureAgentPath } = await import('./lib/agent-path.ts');
    await runAgentBench({ measureAgentPath });
  } catch (e) {
    process.stderr.write(
      `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = 1;
  }
}
