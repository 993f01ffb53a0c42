/**
 * The LDAP connector: one ldapts client per data source, bound once and re-bound after a
 * reconnect; caller-driven paged search (RFC 2696); AD range retrieval; binary values as
 * base64; LDAP result codes mapped to the protocol's typed errors.
 */
import {
  Client,
  type Filter,
  PagedResultsControl,
  type SearchEntry,
  SearchRequest,
  type SearchResponse,
  StatusCodeParser,
} from 'ldapts';
import {
  binarySet,
  encodeValue,
  followRanges,
  isBinaryAttribute,
  type LdapEntry,
  type LdapValue,
} from './entries.ts';
import { LdapConnectorError, toLdapError } from './errors.ts';
import { eq, parseFilter, present } from './filter.ts';
import { parseSchemaItem, type SchemaItem } from './schema.ts';

export interface LdapConnectorOptions {
  url: string;
  bindDn: string;
  /** Kept in this closure only: never logged, never put in an error message. */
  password: string;
  tls?: { ca?: string | Buffer; startTls?: boolean };
  /** Per-operation timeout in ms (default 30 s) and TCP connect timeout (default 10 s). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** Extra attributes to always return as base64 (objectGUID, objectSid … are built in). */
  binaryAttributes?: string[];
}

export type Scope = 'base' | 'one' | 'sub';
export interface SearchParams {
  baseDn: string;
  scope?: Scope;
  /** A filter object (see filter.ts) or trusted filter text; values only via escapeFilter. */
  filter?: Filter | string;
  attributes?: string[];
  pageSize?: number;
  /** Opaque cookie from the previous page; valid only on the same connection (RFC 2696). */
  cookie?: string;
}
export interface SearchPage {
  entries: LdapEntry[];
  /** Absent on the last page. */
  cookie?: string;
}

export interface LdapConnector {
  testConnection(): Promise<{ ok: true; vendor?: string; namingContexts: string[] }>;
  search(params: SearchParams): Promise<SearchPage>;
  listAttributes(): Promise<SchemaItem[]>;
  listObjectClasses(): Promise<SchemaItem[]>;
  close(): Promise<void>;
}

/**
 * ldapts 8 refuses a caller-supplied PagedResultsControl in `search()` and hides the response
 * controls, so one page per call is sent through its request/response core. Narrowed here so a
 * change in ldapts fails loudly in one place (pinned by the integration tests).
 */
interface LdaptsCore {
  _nextMessageId(): number;
  _send(message: SearchRequest): Promise<SearchResponse | undefined>;
}

function core(client: Client): LdaptsCore {
  const c = client as unknown as Partial<LdaptsCore>;
  if (typeof c._send !== 'function' || typeof c._nextMessageId !== 'function') {
    throw new LdapConnectorError('connector_error', 'unsupported ldapts version (paged search)');
  }
  return c as LdaptsCore;
}

export function createLdapConnector(options: LdapConnectorOptions): LdapConnector {
  const binary = binarySet(options.binaryAttributes ?? []);
  const secure = options.url.toLowerCase().startsWith('ldaps:');
  const tlsOptions = options.tls?.ca ? { ca: options.tls.ca } : undefined;
  const client = new Client({
    url: options.url,
    timeout: options.timeoutMs ?? 30_000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    ...(secure && tlsOptions ? { tlsOptions } : {}),
  });
  let binding: Promise<void> | undefined;

  /** Binds once per connection; a dropped socket means the next call reconnects and re-binds. */
  async function ready(): Promise<void> {
    if (binding && client.isConnected) return binding;
    binding = (async () => {
      if (options.tls?.startTls && !secure) await client.startTLS(tlsOptions ?? {});
      await client.bind(options.bindDn, options.password);
    })();
    binding.catch(() => {
      binding = undefined;
    });
    return binding;
  }

  async function run<T>(op: () => Promise<T>): Promise<T> {
    try {
      await ready();
      return await op();
    } catch (e) {
      throw toLdapError(e);
    }
  }

  function toEntry(raw: SearchEntry): LdapEntry {
    const attributes: Record<string, LdapValue[]> = {};
    for (const a of raw.attributes) {
      const isBinary = isBinaryAttribute(a.type, binary);
      attributes[a.type] = a.parsedBuffers.map((b) => encodeValue(isBinary, b));
    }
    return { id: raw.name, attributes };
  }

  async function onePage(p: SearchParams): Promise<SearchPage> {
    const control = new PagedResultsControl({
      critical: true,
      value: {
        size: p.pageSize ?? 500,
        cookie: p.cookie ? Buffer.from(p.cookie, 'base64') : Buffer.alloc(0),
      },
    });
    const filter =
      typeof p.filter === 'string' ? parseFilter(p.filter) : (p.filter ?? present('objectClass'));
    const { _send, _nextMessageId } = core(client);
    const request = new SearchRequest({
      messageId: _nextMessageId.call(client),
      baseDN: p.baseDn,
      scope: p.scope ?? 'sub',
      filter,
      attributes: p.attributes ?? [],
      explicitBufferAttributes: [],
      controls: [control],
    });
    const response = await _send.call(client, request);
    if (response?.status !== 0) throw StatusCodeParser.parse(response);
    const next = response.controls?.find((c) => c instanceof PagedResultsControl) as
      | PagedResultsControl
      | undefined;
    const cookie = next?.value?.cookie;
    const entries = response.searchEntries.map(toEntry);
    const page: SearchPage = { entries: await withRanges(entries) };
    if (cookie?.length) page.cookie = cookie.toString('base64');
    return page;
  }

  async function readBase(dn: string, attributes: string[]): Promise<LdapEntry | undefined> {
    const { searchEntries } = await client.search(dn, {
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

  async function withRanges(entries: LdapEntry[]): Promise<LdapEntry[]> {
    const ranged = (e: LdapEntry) => Object.keys(e.attributes).some((k) => /;range=/i.test(k));
    return Promise.all(
      entries.map((e) => (ranged(e) ? followRanges(e, (dn, a) => readBase(dn, [a])) : e)),
    );
  }

  async function schemaValues(
    attribute: 'attributeTypes' | 'objectClasses',
  ): Promise<SchemaItem[]> {
    const root = await readBase('', ['subschemaSubentry']);
    const subentry = root?.attributes.subschemaSubentry?.[0];
    if (typeof subentry !== 'string') {
      throw new LdapConnectorError('not_found', 'server publishes no subschemaSubentry');
    }
    const { searchEntries } = await client.search(subentry, {
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

  return {
    testConnection: () =>
      run(async () => {
        const root = await readBase('', ['namingContexts', 'vendorName']);
        const vendor = root?.attributes.vendorName?.[0];
        const contexts = root?.attributes.namingContexts ?? [];
        return {
          ok: true as const,
          ...(typeof vendor === 'string' ? { vendor } : {}),
          namingContexts: contexts.filter((c): c is string => typeof c === 'string'),
        };
      }),
    search: (params) => run(() => onePage(params)),
    listAttributes: () => run(() => schemaValues('attributeTypes')),
    listObjectClasses: () => run(() => schemaValues('objectClasses')),
    close: async () => {
      binding = undefined;
      await client.unbind().catch(() => {});
    },
  };
}
