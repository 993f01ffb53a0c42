/** Reads: one page of a paged search (RFC 2696), base-object reads, the subschema subentry. */
import {
  type Filter,
  PagedResultsControl,
  type SearchEntry,
  SearchRequest,
  StatusCodeParser,
} from 'ldapts';
import type { LdapConnection } from './connection.ts';
import { parseDn } from './dn.ts';
import {
  encodeValue,
  followRanges,
  isBinaryAttribute,
  type LdapEntry,
  type LdapValue,
} from './entries.ts';
import { LdapConnectorError } from './errors.ts';
import { eq, parseFilter, present } from './filter.ts';
import { parseSchemaItem, type SchemaItem } from './schema.ts';

export type Scope = 'base' | 'one' | 'sub';
export interface SearchParams {
  baseDn: string;
  scope?: Scope;
  /** A filter object (see filter.ts) or trusted filter text; values only via escapeFilter. */
  filter?: Filter | string;
  attributes?: string[];
  pageSize?: number;
  /** Opaque cookie from the previous page (a pool token, see pool.ts). */
  cookie?: string;
}

/** One page as the server answered it: `serverCookie` is absent on the last page. */
export interface RawPage {
  entries: LdapEntry[];
  serverCookie?: string;
}

export async function searchPage(
  conn: LdapConnection,
  p: SearchParams,
  serverCookie: string | undefined,
  binary: ReadonlySet<string>,
): Promise<RawPage> {
  const control = new PagedResultsControl({
    critical: true,
    value: {
      size: p.pageSize ?? 500,
      cookie: serverCookie ? Buffer.from(serverCookie, 'base64') : Buffer.alloc(0),
    },
  });
  parseDn(p.baseDn); // syntax check: a malformed base is refused, not sent
  const filter =
    typeof p.filter === 'string' ? parseFilter(p.filter) : (p.filter ?? present('objectClass'));
  await conn.ready();
  const request = new SearchRequest({
    messageId: conn.nextMessageId(),
    baseDN: p.baseDn,
    scope: p.scope ?? 'sub',
    filter,
    attributes: p.attributes ?? [],
    explicitBufferAttributes: [],
    controls: [control],
  });
  const response = await conn.send(request);
  if (response?.status !== 0) throw StatusCodeParser.parse(response);
  const next = response.controls?.find((c) => c instanceof PagedResultsControl) as
    | PagedResultsControl
    | undefined;
  const cookie = next?.value?.cookie;
  const entries = response.searchEntries.map((e) => toEntry(e, binary));
  const page: RawPage = { entries: await withRanges(conn, entries) };
  if (cookie?.length) page.serverCookie = cookie.toString('base64');
  return page;
}

function toEntry(raw: SearchEntry, binary: ReadonlySet<string>): LdapEntry {
  const attributes: Record<string, LdapValue[]> = {};
  for (const a of raw.attributes) {
    const isBinary = isBinaryAttribute(a.type, binary);
    attributes[a.type] = a.parsedBuffers.map((b) => encodeValue(isBinary, b));
  }
  return { id: raw.name, attributes };
}

export async function readBase(
  conn: LdapConnection,
  dn: string,
  attributes: string[],
): Promise<LdapEntry | undefined> {
  await conn.ready();
  const { searchEntries } = await conn.client.search(dn, {
    scope: 'base',
    filter: present('objectClass'),
    attributes,
  });
  const first = searchEntries[0];
  if (!first) return undefined;
  const out: Record<string, LdapValue[]> = {};
  for (const [k, v] of Object.entries(first)) {
    if (k === 'dn') continue;
    out[k] = (Array.isArray(v) ? v : [v]).map((x) =>
      typeof x === 'string' ? x : encodeValue(true, x),
    );
  }
  return { id: String(first.dn), attributes: out };
}

async function withRanges(conn: LdapConnection, entries: LdapEntry[]): Promise<LdapEntry[]> {
  const ranged = (e: LdapEntry) => Object.keys(e.attributes).some((k) => /;range=/i.test(k));
  return Promise.all(
    entries.map((e) => (ranged(e) ? followRanges(e, (dn, a) => readBase(conn, dn, [a])) : e)),
  );
}

export async function schemaValues(
  conn: LdapConnection,
  attribute: 'attributeTypes' | 'objectClasses',
): Promise<SchemaItem[]> {
  const root = await readBase(conn, '', ['subschemaSubentry']);
  const subentry = root?.attributes.subschemaSubentry?.[0];
  if (typeof subentry !== 'string') {
    throw new LdapConnectorError('not_found', 'server publishes no subschemaSubentry');
  }
  const { searchEntries } = await conn.client.search(subentry, {
    scope: 'base',
    filter: eq('objectClass', 'subschema'),
    attributes: [attribute],
  });
  const raw = searchEntries[0]?.[attribute] ?? [];
  const values = (Array.isArray(raw) ? raw : [raw]).map(String);
  return values
    .flatMap((v) => parseSchemaItem(v) ?? [])
    .sort((a, b) => a.name.localeCompare(b.name));
}
