import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Client } from 'ldapts';
import { createLdapConnector } from '../../agent/connectors/ldap/connector.ts';
import type { BenchLdap } from './ldap-slapd.ts';
import { fmt, type Row } from './table.ts';

/**
 * The one read every row performs, so the figures compare like for like: a subtree paged search
 * of all users, the attributes a directory import maps, pages of 1000 (what `ldapsearch -E
 * pr=1000` and the sync jobs use).
 */
export const READ = {
  filter: '(objectClass=inetOrgPerson)',
  attributes: ['uid', 'cn', 'sn', 'givenName', 'mail', 'employeeNumber', 'description'],
  pageSize: 1000,
} as const;

/** One timed full read. */
export interface ReadRun {
  seconds: number;
  /** Entries received; NaN when the tool does not say (ldapsearch writing to /dev/null). */
  entries: number;
}

/** Repeated runs of one way of reading, summarised by the median run. */
export interface Measured {
  /** Entries per second of the median run. */
  rate: number;
  /** Median, fastest and slowest run, in seconds. */
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Median-by-duration summary of `runs`, `entries` being the size of one full read. */
export function summarizeRuns(runs: ReadRun[], entries: number): Measured {
  const s = runs.map((r) => r.seconds).sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)] ?? Number.NaN;
  return {
    rate: entries / median,
    median,
    min: s[0] ?? Number.NaN,
    max: s.at(-1) ?? Number.NaN,
    runs: s.length,
  };
}

/** Fails the bench when a read returned fewer (or more) entries than the directory holds. */
export function expectAll(what: string, got: number, ldap: BenchLdap): void {
  if (got !== ldap.users) {
    throw new Error(`${what} returned ${got} entries, the directory holds ${ldap.users}`);
  }
}

function ldapsearchArgs(ldap: BenchLdap, passwordFile: string, attributes: readonly string[]) {
  return [
    '-x',
    '-H',
    ldap.url,
    '-D',
    ldap.bindDn,
    // -y: the password from a file, not on a command line other users can read in ps
    '-y',
    passwordFile,
    '-E',
    `pr=${READ.pageSize}/noprompt`,
    '-b',
    ldap.baseDn,
    '-s',
    'sub',
    READ.filter,
    ...attributes,
  ];
}

async function exitOf(child: ReturnType<typeof spawn>, what: string): Promise<void> {
  const [code, sig] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`${what} failed (exit ${code ?? sig})`);
}

/**
 * Counts what `ldapsearch -E pr=…` returns, from the `# numEntries:` total it prints last (DNs
 * only; the stream is drained, only its tail kept). Untimed: it proves the server hands a paged
 * read every entry under the size limits, and warms slapd before the timed runs so the first
 * timed tool is not charged for it.
 */
export async function ldapsearchCount(ldap: BenchLdap, passwordFile: string): Promise<number> {
  const child = spawn('ldapsearch', ldapsearchArgs(ldap, passwordFile, ['1.1']), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = exitOf(child, 'ldapsearch (count)');
  let tail = '';
  for await (const chunk of child.stdout) tail = (tail + String(chunk)).slice(-512);
  await exited;
  const total = [...tail.matchAll(/^# numEntries: (\d+)$/gm)].at(-1)?.[1];
  if (total === undefined) throw new Error(`ldapsearch printed no numEntries: ${tail}`);
  return Number(total);
}

/**
 * The C client's floor: `ldapsearch -E pr=1000/noprompt` end to end (process start, bind, all
 * pages, LDIF formatting) with its output sent to /dev/null, so no reader of ours is timed.
 */
export async function ldapsearchRead(ldap: BenchLdap, passwordFile: string): Promise<ReadRun> {
  const t = performance.now();
  const child = spawn('ldapsearch', ldapsearchArgs(ldap, passwordFile, READ.attributes), {
    stdio: ['ignore', 'ignore', 'inherit'], // 'ignore' is /dev/null
  });
  // A non-zero exit (e.g. sizeLimitExceeded) fails the run: no silent short read.
  await exitOf(child, 'ldapsearch');
  return { seconds: (performance.now() - t) / 1000, entries: Number.NaN };
}

/**
 * ldapts' own paged read (`searchPaginated`, one page in memory at a time): connect, bind, read
 * every page, touch every value, unbind. The floor for any Node code using ldapts, hence the
 * baseline of the agent path.
 */
export async function ldaptsRead(ldap: BenchLdap): Promise<ReadRun> {
  const t = performance.now();
  const client = new Client({ url: ldap.url, timeout: 120_000 });
  let entries = 0;
  let values = 0;
  try {
    await client.bind(ldap.bindDn, ldap.password);
    const pages = client.searchPaginated(ldap.baseDn, {
      scope: 'sub',
      filter: READ.filter,
      attributes: [...READ.attributes],
      paged: { pageSize: READ.pageSize },
    });
    for await (const page of pages) {
      for (const e of page.searchEntries) {
        entries++;
        for (const [k, v] of Object.entries(e))
          if (k !== 'dn') values += Array.isArray(v) ? v.length : 1;
      }
    }
  } finally {
    await client.unbind().catch(() => {});
  }
  if (values < entries) throw new Error(`ldapts read ${entries} entries but only ${values} values`);
  return { seconds: (performance.now() - t) / 1000, entries };
}

/**
 * The project's LDAP connector driven as the agent drives it: one `search` per page with the
 * previous page's cookie, every entry's values touched. What the agent path adds (SSE command,
 * result upload, hub ingestion) is measured against this and against ldapts.
 */
export async function connectorRead(ldap: BenchLdap): Promise<ReadRun> {
  const t = performance.now();
  const connector = createLdapConnector({
    url: ldap.url,
    bindDn: ldap.bindDn,
    password: ldap.password,
    timeoutMs: 120_000,
  });
  let entries = 0;
  let values = 0;
  try {
    let cookie: string | undefined;
    do {
      const page = await connector.search({
        baseDn: ldap.baseDn,
        scope: 'sub',
        filter: READ.filter,
        attributes: [...READ.attributes],
        pageSize: READ.pageSize,
        ...(cookie ? { cookie } : {}),
      });
      for (const e of page.entries) {
        entries++;
        for (const v of Object.values(e.attributes)) values += v.length;
      }
      cookie = page.cookie;
    } while (cookie);
  } finally {
    await connector.close();
  }
  if (values < entries)
    throw new Error(`connector read ${entries} entries but only ${values} values`);
  return { seconds: (performance.now() - t) / 1000, entries };
}

const runsCell = (m: Measured) =>
  `${fmt.rate(m.rate, 'entries/s')} · median ${fmt.s(m.median)} of ${m.runs} (${fmt.s(m.min)}–${fmt.s(m.max)})`;

/**
 * An entries/s row against the same run's direct ldapts read. `minRatio` (e.g. 0.5 for "agent
 * path ≥ 50% of a direct ldapts read") makes it a budgeted PASS/FAIL row.
 */
export function readRow(name: string, m: Measured, baseline: Measured, minRatio?: number): Row {
  const ratio = m.rate / baseline.rate;
  const row: Row = {
    name,
    hub: runsCell(m),
    baseline: fmt.rate(baseline.rate, 'entries/s'),
    ratio: fmt.ratio(ratio, 'entries/s'),
  };
  if (minRatio !== undefined) {
    row.budget = `≥ ${fmt.ratio(minRatio, 'ldapts')}`;
    row.pass = ratio >= minRatio;
  }
  return row;
}
