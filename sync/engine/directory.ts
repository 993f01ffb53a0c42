/**
 * What the engine reads from a directory besides entries: the delta watermark. It is read
 * *before* the scan, so a change made during the scan is read again by the next run, never
 * lost; it is committed only with the run's last changes (run.ts).
 *
 * - OpenLDAP: the naming context's `contextCSN` (syncprov keeps it; several values with
 *   several server ids — the smallest is used, which may re-read a little, never miss). The
 *   delta filter is `entryCSN >= watermark`: entries at the watermark itself are read again
 *   (the overlap), and an unchanged mapped state costs no write.
 * - Active Directory: rootDSE `highestCommittedUSN` with the DC's identity — `dsServiceName`
 *   and the `invocationId` of that NTDS Settings object. USNs are per DC and a restore changes
 *   the invocationId: a different DC or invocation forces a full run.
 */
import { escapeFilter } from '../../agent/connectors/ldap/filter.ts';
import type { Entry, SearchPayload } from '../../agent/protocol.ts';
import type { DirectoryKind } from './settings.ts';

export type Watermark =
  | { kind: 'openldap'; csn: string }
  | { kind: 'activeDirectory'; usn: string; dsServiceName: string; invocationId: string };

export type Search = (payload: Omit<Partial<SearchPayload>, 'cookie'>) => AsyncIterable<Entry[]>;

async function readOne(
  search: Search,
  base: string,
  attributes: string[],
): Promise<Entry | undefined> {
  for await (const page of search({ base, scope: 'base', attributes, filter: '(objectClass=*)' })) {
    if (page[0]) return page[0];
  }
  return undefined;
}

function values(entry: Entry | undefined, name: string): string[] {
  if (!entry) return [];
  const key = Object.keys(entry.attributes).find((k) => k.toLowerCase() === name.toLowerCase());
  return (key ? (entry.attributes[key] ?? []) : []).map((v) =>
    typeof v === 'string' ? v : `base64:${v.base64}`,
  );
}

/** Lower-case, spaces after commas dropped: enough to tell which context holds a base DN. */
export const dnKey = (dn: string) => dn.toLowerCase().replace(/,\s+/g, ',').trim();

/** The naming context that holds `baseDn` (the longest suffix match). */
export function namingContextOf(contexts: string[], baseDn: string): string | undefined {
  const base = dnKey(baseDn);
  return contexts
    .filter((c) => {
      const k = dnKey(c);
      return k !== '' && (base === k || base.endsWith(`,${k}`));
    })
    .sort((a, b) => b.length - a.length)[0];
}

/** Reads the watermark before a scan; undefined when the directory offers none (full runs only). */
export async function readWatermark(
  search: Search,
  directory: DirectoryKind,
  baseDn: string,
): Promise<Watermark | undefined> {
  if (directory === 'activeDirectory') {
    const root = await readOne(search, '', ['highestCommittedUSN', 'dsServiceName']);
    const [usn] = values(root, 'highestCommittedUSN');
    const [dsServiceName] = values(root, 'dsServiceName');
    if (!usn || !/^\d+$/.test(usn) || !dsServiceName) return undefined;
    const ntds = await readOne(search, dsServiceName, ['invocationId']);
    const [invocationId] = values(ntds, 'invocationId');
    if (!invocationId) return undefined;
    return { kind: 'activeDirectory', usn, dsServiceName, invocationId };
  }
  const root = await readOne(search, '', ['namingContexts']);
  const context = namingContextOf(values(root, 'namingContexts'), baseDn);
  if (!context) return undefined;
  const csns = values(await readOne(search, context, ['contextCSN']), 'contextCSN');
  // CSNs order as text (YYYYmmddHHMMSS.uuuuuuZ#count#sid#mod): the oldest server's is safe.
  const csn = csns.sort()[0];
  return csn ? { kind: 'openldap', csn } : undefined;
}

/** Whether a stored watermark can drive a delta against what the directory says now. */
export function sameSource(previous: Watermark, now: Watermark): boolean {
  if (previous.kind !== now.kind) return false;
  if (previous.kind === 'activeDirectory' && now.kind === 'activeDirectory') {
    return (
      previous.invocationId === now.invocationId &&
      dnKey(previous.dsServiceName) === dnKey(now.dsServiceName) &&
      BigInt(now.usn) >= BigInt(previous.usn)
    );
  }
  return true;
}

/** Narrows a job's filter to what changed since the watermark. */
export function deltaFilter(filter: string, since: Watermark): string {
  const changed =
    since.kind === 'activeDirectory'
      ? `(uSNChanged>=${BigInt(since.usn) + 1n})`
      : `(entryCSN>=${escapeFilter(since.csn)})`;
  return `(&${filter}${changed})`;
}

export const parseWatermark = (v: unknown): Watermark | undefined => {
  if (typeof v !== 'object' || v === null) return undefined;
  const w = v as Record<string, unknown>;
  if (w.kind === 'openldap' && typeof w.csn === 'string') return { kind: 'openldap', csn: w.csn };
  if (
    w.kind === 'activeDirectory' &&
    typeof w.usn === 'string' &&
    typeof w.dsServiceName === 'string' &&
    typeof w.invocationId === 'string'
  ) {
    return {
      kind: 'activeDirectory',
      usn: w.usn,
      dsServiceName: w.dsServiceName,
      invocationId: w.invocationId,
    };
  }
  return undefined;
};
