/**
 * The baseline of `npm run bench:sync`, measured in the same run as the imports: the raw paged
 * read (`ldapsearch -E pr=1000`, bench/lib/ldap-reads.ts) plus a PostgreSQL `COPY` of as many
 * user rows. The rows are the very users of the directory, mapped with the default OpenLDAP
 * mapping (same width as what the import stores), written to a COPY file before the clock
 * starts; the timed COPY goes into a table shaped like `users` (its defaults and indexes),
 * logged like `users`, so it is the floor of writing those rows where the import writes them.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createLdapConnector } from '../../agent/connectors/ldap/connector.ts';
import type { Entry } from '../../agent/protocol.ts';
import type { Db } from '../../db/client.ts';
import { nameKey } from '../../scim/store/keys.ts';
import { applyMapping, compileMapping, DEFAULT_MAPPINGS } from '../../sync/mapping/index.ts';
import { expectAll, ldapsearchCount, ldapsearchRead, READ } from './ldap-reads.ts';
import type { SyncSlapd } from './sync-slapd.ts';

export interface Timed {
  /** Median of the runs, seconds. */
  median: number;
  runs: number[];
}

const timed = (runs: number[]): Timed => {
  const s = [...runs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] ?? Number.NaN, runs };
};

export interface Baseline {
  read: Timed;
  copy: Timed;
  /** read + copy medians, seconds. */
  total: number;
  /** Bytes of the COPY file (the rows as text). */
  copyBytes: number;
}

/** Median of `runs` raw paged reads; a first untimed run checks every entry comes back. */
async function rawReads(slapd: SyncSlapd, runs: number): Promise<Timed> {
  expectAll('ldapsearch -E pr', await ldapsearchCount(slapd, slapd.readerPasswordFile), slapd);
  const out: number[] = [];
  for (let i = 0; i < runs; i++)
    out.push((await ldapsearchRead(slapd, slapd.readerPasswordFile)).seconds);
  return timed(out);
}

/** COPY text format: NULL is \N; backslash, tab, newline and CR are escaped. */
const copyText = (v: string | null) =>
  v === null
    ? '\\N'
    : v.replace(
        /[\\\t\n\r]/g,
        (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] as string,
      );

const text = (v: unknown) => (typeof v === 'string' ? v : null);

function copyLine(tenantId: string, entry: Entry, mapping: ReturnType<typeof mapped>): string {
  const r = applyMapping(mapping, entry);
  if (!r.ok) throw new Error(`baseline: ${entry.id} does not map: ${r.problems.join('; ')}`);
  const userName = String(r.user.userName);
  const fields = [
    tenantId,
    userName,
    nameKey(userName),
    text(r.user.externalId),
    text(r.user.displayName),
    JSON.stringify(r.user),
    'bench',
  ];
  return `${fields.map(copyText).join('\t')}\n`;
}

function mapped() {
  const c = compileMapping(DEFAULT_MAPPINGS.openldap);
  if (!c.ok) throw new Error(`default mapping: ${c.problems.join('; ')}`);
  return c.mapping;
}

/**
 * Reads the directory once (the project's LDAP connector, page by page) and writes the mapped
 * users as a COPY file: untimed preparation, one page in memory at a time.
 */
async function writeCopyFile(slapd: SyncSlapd, tenantId: string, file: string): Promise<number> {
  const mapping = mapped();
  const attributes = [...new Set(mapping.rules.flatMap((r) => r.sources)), 'entryUUID'];
  const connector = createLdapConnector({
    url: slapd.url,
    bindDn: slapd.bindDn,
    password: slapd.password,
    timeoutMs: 120_000,
  });
  const out = await fs.open(file, 'w');
  let rows = 0;
  try {
    let cookie: string | undefined;
    do {
      const page = await connector.search({
        baseDn: slapd.baseDn,
        scope: 'sub',
        filter: READ.filter,
        attributes,
        pageSize: READ.pageSize,
        ...(cookie ? { cookie } : {}),
      });
      await out.write(page.entries.map((e) => copyLine(tenantId, e, mapping)).join(''));
      rows += page.entries.length;
      cookie = page.cookie;
    } while (cookie);
  } finally {
    await out.close();
    await connector.close();
  }
  expectAll('baseline COPY file', rows, slapd);
  return (await fs.stat(file)).size;
}

const COPY_TABLE = 'bench_copy_users';

/** Median of `runs` COPYs of the file into an empty users-shaped table (emptied untimed). */
async function copies(db: Db, file: string, users: number, runs: number): Promise<Timed> {
  const { sql } = db;
  await sql.unsafe(`drop table if exists ${COPY_TABLE}`);
  await sql.unsafe(`create table ${COPY_TABLE} (like users including defaults including indexes)`);
  const out: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      await sql.unsafe(`truncate ${COPY_TABLE}`);
      await sql.unsafe('checkpoint');
      const t = performance.now();
      const writable = await sql
        .unsafe(`copy ${COPY_TABLE} (tenant_id, user_name, user_name_key,
        external_id, display_name, doc, source) from stdin`)
        .writable();
      await pipeline(createReadStream(file), writable);
      out.push((performance.now() - t) / 1000);
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from bench_copy_users`;
      if (row?.n !== users) throw new Error(`baseline COPY stored ${row?.n} rows, not ${users}`);
    }
  } finally {
    await sql.unsafe(`drop table if exists ${COPY_TABLE}`);
  }
  return timed(out);
}

/** The raw read and the COPY, `runs` times each, in this run. */
export async function measureBaseline(o: {
  slapd: SyncSlapd;
  db: Db;
  tenantId: string;
  dir: string;
  runs: number;
  progress(msg: string): void;
}): Promise<Baseline> {
  o.progress(`baseline: ldapsearch -E pr=${READ.pageSize}, ${o.runs} timed runs`);
  const read = await rawReads(o.slapd, o.runs);
  const file = path.join(o.dir, 'baseline-users.copy');
  o.progress('baseline: writing the COPY file (directory read + default mapping, untimed)');
  const copyBytes = await writeCopyFile(o.slapd, o.tenantId, file);
  o.progress(`baseline: COPY of ${o.slapd.users} rows, ${o.runs} timed runs`);
  const copy = await copies(o.db, file, o.slapd.users, o.runs);
  await fs.rm(file, { force: true });
  return { read, copy, total: read.median + copy.median, copyBytes };
}
