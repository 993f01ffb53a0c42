/**
 * The hub ↔ agent protocol, shared by both sides. Versioned: a breaking change bumps
 * PROTOCOL_VERSION and the URL prefix (`/agent/v1/…`). This module holds only schemas, types
 * and pure framing helpers — no I/O — so the built agent can import it alone.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;
/** Header both sides send so a mismatch is refused with a clear error instead of misparsed. */
export const PROTOCOL_HEADER = 'idhub-agent-protocol';
export const STREAM_PATH = '/agent/v1/stream';
export const resultPath = (commandId: string) =>
  `/agent/v1/commands/${encodeURIComponent(commandId)}/result`;

/** The agent's liveness report: `POST` every keepAlive interval (see heartbeatRequestSchema). */
export const HEARTBEAT_PATH = '/agent/v1/heartbeat';
/** Request headers the agent sends on every call, so the hub can refuse a mismatch clearly. */
export const TENANT_HEADER = 'idhub-tenant';
export const AGENT_VERSION_HEADER = 'idhub-agent-version';
/** The hub sends a heartbeat comment at least this often; the agent gives up after 2×. */
export const HEARTBEAT_INTERVAL_MS = 15_000;
/** Default cap on a result's JSON size; a bigger result is refused as `too_large`. */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024;
export const MAX_PAGE_SIZE = 5000;

/** Data source names: also used as YAML keys and in logs, so kept plain. */
export const dataSourceNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

// ---- payloads ---------------------------------------------------------------------------

const emptyPayload = z.strictObject({}).default({});

export const searchPayloadSchema = z.strictObject({
  /** Connector-native filter: LDAP filter text, SCIM filter, or SQL filter object (JSON). */
  filter: z.string().min(1).optional(),
  /** LDAP: the search base (default: the data source's baseDn). SCIM: the endpoint to list
   * (default `/Users`). Ignored by SQL. */
  base: z.string().optional(),
  scope: z.enum(['base', 'one', 'sub']).default('sub'),
  /** Empty means the connector's default set. */
  attributes: z.array(z.string().min(1)).default([]),
  pageSize: z.int().min(1).max(MAX_PAGE_SIZE).default(500),
  /** Opaque paging cookie from the previous page; absent or null for the first page. */
  cookie: z.string().nullable().default(null),
});

/** A value is text, or base64 for binary attributes (objectGUID, jpegPhoto…). */
export const attributeValueSchema = z.union([z.string(), z.strictObject({ base64: z.base64() })]);
export const entrySchema = z.strictObject({
  /** DN for LDAP, key for SQL, resource id for SCIM. */
  id: z.string(),
  attributes: z.record(z.string(), z.array(attributeValueSchema)),
});
export const searchResultSchema = z.strictObject({
  entries: z.array(entrySchema),
  /** null when this was the last page. */
  cookie: z.string().nullable(),
});

const dn = z.string().min(1);
const ldapValues = z.array(attributeValueSchema);
const ldapExportSchema = z.discriminatedUnion('op', [
  z.strictObject({
    connector: z.literal('ldap'),
    op: z.literal('add'),
    dn,
    attributes: z.record(z.string(), ldapValues),
  }),
  z.strictObject({
    connector: z.literal('ldap'),
    op: z.literal('modify'),
    dn,
    changes: z
      .array(
        z.strictObject({
          operation: z.enum(['add', 'delete', 'replace']),
          attribute: z.string().min(1),
          values: ldapValues.default([]),
        }),
      )
      .min(1),
  }),
  z.strictObject({
    connector: z.literal('ldap'),
    op: z.literal('modrdn'),
    dn,
    newRdn: z.string().min(1),
    deleteOldRdn: z.boolean().default(true),
    newSuperior: z.string().min(1).optional(),
  }),
  z.strictObject({ connector: z.literal('ldap'), op: z.literal('delete'), dn }),
]);

const sqlScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const sqlKey = z.record(z.string(), sqlScalar).refine((k) => Object.keys(k).length > 0, {
  message: 'key must name at least one column',
});
const sqlExportSchema = z.discriminatedUnion('op', [
  z.strictObject({
    connector: z.literal('sql'),
    op: z.literal('upsert'),
    key: sqlKey,
    values: z.record(z.string(), sqlScalar),
  }),
  z.strictObject({ connector: z.literal('sql'), op: z.literal('delete'), key: sqlKey }),
]);

/** Relative to the data source's baseUrl: the hub must not steer the agent elsewhere. */
export const scimPathSchema = z
  .string()
  .regex(/^\/(?!\/)[^\s?#\\]*$/, 'must be a path relative to the base URL, like "/Users/123"')
  .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), {
    message: 'must not contain "." or ".." segments',
  });
const scimBody = z.record(z.string(), z.unknown());
const scimExportSchema = z.discriminatedUnion('op', [
  z.strictObject({
    connector: z.literal('scim'),
    op: z.literal('POST'),
    path: scimPathSchema,
    body: scimBody,
  }),
  z.strictObject({
    connector: z.literal('scim'),
    op: z.literal('PUT'),
    path: scimPathSchema,
    body: scimBody,
  }),
  z.strictObject({
    connector: z.literal('scim'),
    op: z.literal('PATCH'),
    path: scimPathSchema,
    body: scimBody,
  }),
  z.strictObject({ connector: z.literal('scim'), op: z.literal('DELETE'), path: scimPathSchema }),
]);

export const exportPayloadSchema = z.discriminatedUnion('connector', [
  ldapExportSchema,
  sqlExportSchema,
  scimExportSchema,
]);

// ---- results ----------------------------------------------------------------------------

export const pingResultSchema = z.strictObject({
  protocolVersion: z.int(),
  agentVersion: z.string(),
  time: z.iso.datetime({ offset: true }),
});
export const testConnectionResultSchema = z.strictObject({
  latencyMs: z.number().nonnegative(),
  /** e.g. server vendor/version, bound identity. */
  details: z.string().optional(),
});
export const exportResultSchema = z.strictObject({
  /** DN / key / SCIM id of the written object (a SCIM POST returns the new id). */
  id: z.string().optional(),
  /** The resource as returned by a SCIM write, when there is one. */
  resource: z.record(z.string(), z.unknown()).optional(),
});
export const listAttributesResultSchema = z.strictObject({
  attributes: z.array(
    z.strictObject({
      name: z.string(),
      type: z.string().optional(),
      multiValued: z.boolean(),
      required: z.boolean().default(false),
      description: z.string().optional(),
    }),
  ),
});
export const listResourceTypesResultSchema = z.strictObject({
  resourceTypes: z.array(
    z.strictObject({
      name: z.string(),
      endpoint: z.string().optional(),
      schema: z.string().optional(),
      description: z.string().optional(),
    }),
  ),
});

// ---- commands ---------------------------------------------------------------------------

const base = {
  id: z.uuid(),
  dataSource: dataSourceNameSchema,
  /** The agent abandons the command (and answers `timeout`) after this instant. */
  deadline: z.iso.datetime({ offset: true }),
};

export const commandSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('ping'), payload: emptyPayload }),
  z.strictObject({ ...base, kind: z.literal('testConnection'), payload: emptyPayload }),
  z.strictObject({ ...base, kind: z.literal('search'), payload: searchPayloadSchema }),
  z.strictObject({ ...base, kind: z.literal('export'), payload: exportPayloadSchema }),
  z.strictObject({ ...base, kind: z.literal('listAttributes'), payload: emptyPayload }),
  z.strictObject({ ...base, kind: z.literal('listResourceTypes'), payload: emptyPayload }),
]);

export const resultDataSchemas = {
  ping: pingResultSchema,
  testConnection: testConnectionResultSchema,
  search: searchResultSchema,
  export: exportResultSchema,
  listAttributes: listAttributesResultSchema,
  listResourceTypes: listResourceTypesResultSchema,
} as const;

export const errorCodes = [
  'auth_failure',
  'not_found',
  'timeout',
  'connector_error',
  'refused',
  'too_large',
  'unsupported',
] as const;
export const commandErrorSchema = z.strictObject({
  code: z.enum(errorCodes),
  message: z.string(),
  /** The remote system's own code: an LDAP result code, SQLSTATE, HTTP status. */
  remoteCode: z.union([z.string(), z.int()]).optional(),
});
export const commandResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), data: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: commandErrorSchema }),
]);

export type Command = z.output<typeof commandSchema>;
export type CommandInput = z.input<typeof commandSchema>;
export type CommandKind = Command['kind'];
export type CommandOf<K extends CommandKind> = Extract<Command, { kind: K }>;
export type SearchPayload = z.output<typeof searchPayloadSchema>;
export type ExportPayload = z.output<typeof exportPayloadSchema>;
export type AttributeValue = z.output<typeof attributeValueSchema>;
export type Entry = z.output<typeof entrySchema>;
export type ErrorCode = (typeof errorCodes)[number];
export type CommandError = z.output<typeof commandErrorSchema>;
export type ResultData<K extends CommandKind> = z.output<(typeof resultDataSchemas)[K]>;
export type CommandResult<K extends CommandKind = CommandKind> =
  | { ok: true; data: ResultData<K> }
  | { ok: false; error: CommandError };

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** One readable line per issue: `payload.scope: Invalid option: expected one of …`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

function toParsed<T>(r: z.ZodSafeParseResult<T>): Parsed<T> {
  return r.success ? { ok: true, value: r.data } : { ok: false, problems: describeIssues(r.error) };
}

export const parseCommand = (input: unknown): Parsed<Command> =>
  toParsed(commandSchema.safeParse(input));

/** Validates a result body against the data schema of the command kind it answers. */
export function parseResult<K extends CommandKind>(
  kind: K,
  input: unknown,
): Parsed<CommandResult<K>> {
  const envelope = commandResultSchema.safeParse(input);
  if (!envelope.success) return { ok: false, problems: describeIssues(envelope.error) };
  if (!envelope.data.ok) return { ok: true, value: envelope.data };
  const data = resultDataSchemas[kind].safeParse(envelope.data.data);
  if (!data.success) {
    return { ok: false, problems: describeIssues(data.error).map((p) => `data.${p}`) };
  }
  return { ok: true, value: { ok: true, data: data.data as ResultData<K> } };
}

export const failure = (
  code: ErrorCode,
  message: string,
  remoteCode?: string | number,
): CommandResult<never> => ({
  ok: false,
  error: remoteCode === undefined ? { code, message } : { code, message, remoteCode },
});

/**
 * Serializes a result for `POST …/result`, refusing one over the cap: the body is then a
 * `too_large` error, so the caller learns why instead of seeing a 413 or a hung request.
 */
export function encodeResult(
  result: CommandResult,
  maxBytes = MAX_RESULT_BYTES,
): { body: string; bytes: number; refused: boolean } {
  const body = JSON.stringify(result);
  const bytes = Buffer.byteLength(body);
  if (bytes <= maxBytes) return { body, bytes, refused: false };
  const refusal = JSON.stringify(
    failure(
      'too_large',
      `result is ${bytes} bytes, over the ${maxBytes}-byte cap; ask for a smaller pageSize or fewer attributes`,
    ),
  );
  return { body: refusal, bytes: Buffer.byteLength(refusal), refused: true };
}

// ---- liveness -------------------------------------------------------------------------

/**
 * Body of `POST /agent/v1/heartbeat`. The hub extends the leases of the commands listed (those
 * it leased to this agent) and records the agent as alive; a replica that hears no heartbeat
 * from a streamed agent for 2 × the interval drops the stream (a half-open connection, e.g. a
 * paused agent), and its leases then expire and move to another agent of the group.
 */
export const heartbeatRequestSchema = z.strictObject({
  agentVersion: z.string().max(100),
  /** Ids of commands this agent is running now. */
  inFlight: z.array(z.uuid()).max(10_000).default([]),
});
export const heartbeatResponseSchema = z.strictObject({
  /** Of the commands sent, those still leased to this agent (others were moved or ended). */
  held: z.array(z.uuid()),
});

/** First event of every stream (no `id:`, so it never changes Last-Event-ID). */
export const helloEventSchema = z.strictObject({
  protocolVersion: z.int(),
  agentId: z.uuid(),
  agentName: z.string(),
  /** The replica serving this stream (for logs). */
  replica: z.string(),
  heartbeatMs: z.int().positive(),
});
/** `event: cancel`: the hub no longer wants this command's result (expired, cancelled). */
export const cancelEventSchema = z.strictObject({ id: z.uuid(), reason: z.string() });

export type HeartbeatRequest = z.output<typeof heartbeatRequestSchema>;
export type HeartbeatResponse = z.output<typeof heartbeatResponseSchema>;
export type HelloEvent = z.output<typeof helloEventSchema>;
export type CancelEvent = z.output<typeof cancelEventSchema>;

// ---- SSE framing ------------------------------------------------------------------------

/** One `command` event; `id:` is the command id, so `Last-Event-ID` names the last one seen. */
export function formatSseEvent(command: CommandInput | Command): string {
  return formatSse({ id: command.id, event: 'command', data: JSON.stringify(command) });
}

export function formatSse(msg: { id?: string; event?: string; data: string }): string {
  for (const v of [msg.id, msg.event]) {
    if (v !== undefined && /[\r\n]/.test(v)) throw new Error('SSE id/event must be one line');
  }
  let out = '';
  if (msg.id !== undefined) out += `id: ${msg.id}\n`;
  if (msg.event !== undefined) out += `event: ${msg.event}\n`;
  for (const line of msg.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: ignored by SSE clients, but it keeps proxies and the agent's timer alive. */
export const formatSseComment = (text = '') =>
  `:${text ? ` ${text.replace(/[\r\n]+/g, ' ')}` : ''}\n\n`;
export const formatSseHeartbeat = (now = new Date()) =>
  formatSseComment(`heartbeat ${now.toISOString()}`);
export const formatSseRetry = (ms: number) => `retry: ${Math.max(0, Math.trunc(ms))}\n\n`;

export type SseMessage =
  | { type: 'event'; id: string; event: string; data: string }
  | { type: 'comment'; text: string }
  | { type: 'retry'; ms: number };

/**
 * Incremental parser (WHATWG "event stream interpretation"): feed it chunks as they arrive,
 * split anywhere — even inside a CRLF or a multi-byte character — and it yields whole
 * messages. `lastEventId` persists across events, as the spec requires, for reconnects.
 */
export class SseParser {
  lastEventId = '';
  #decoder = new TextDecoder('utf-8');
  #buffer = '';
  #started = false;
  #pendingCr = false;
  #event = '';
  #data: string[] = [];
  #hasData = false;

  push(chunk: string | Uint8Array): SseMessage[] {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const out: SseMessage[] = [];
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = lineEnd.exec(this.#buffer); m; m = lineEnd.exec(this.#buffer)) {
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (m[0] === '\r' && m.index === this.#buffer.length - 1) this.#pendingCr = true;
      this.#line(this.#buffer.slice(start, m.index), out);
      start = m.index + m[0].length;
    }
    this.#buffer = this.#buffer.slice(start);
    return out;
  }

  #line(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.#dispatch(out);
      return;
    }
    if (line.startsWith(':')) {
      out.push({ type: 'comment', text: line.slice(1).replace(/^ /, '') });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') {
      this.#data.push(value);
      this.#hasData = true;
    } else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value))
      out.push({ type: 'retry', ms: Number(value) });
  }

  #dispatch(out: SseMessage[]): void {
    if (this.#hasData) {
      const data = this.#data.join('\n');
      out.push({ type: 'event', id: this.lastEventId, event: this.#event || 'message', data });
    }
    this.#event = '';
    this.#data = [];
    this.#hasData = false;
  }
}

/** Turns a `command` event into a validated command, or the reasons it is not one. */
export function parseCommandEvent(msg: { event: string; data: string }): Parsed<Command> {
  if (msg.event !== 'command') return { ok: false, problems: [`unexpected event "${msg.event}"`] };
  let json: unknown;
  try {
    json = JSON.parse(msg.data);
  } catch {
    return { ok: false, problems: ['(root): data is not valid JSON'] };
  }
  return parseCommand(json);
}
