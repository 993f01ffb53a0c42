import { GatewayError } from '../../../agent/gateway/types.ts';
import type { AttributeValue, Entry, ResultData } from '../../../agent/protocol.ts';
import { recordAudit } from '../../identity/audit.ts';
import { builder } from '../builder.ts';
import { actorOf, type GraphQLContext, tenantOf } from '../context.ts';
import { isObject, requireId } from './common.ts';
import { DomainError, domain, ErrorInterface, InvalidInputError, NotFoundError } from './errors.ts';

/**
 * Admin commands run against a data source through the agent gateway (an agent of its group,
 * or the hub itself for a direct data source): test the connection, discover attributes and
 * resource types, preview a search. A failure of the remote side is a typed DataSourceError.
 */
export class DataSourceError extends DomainError {
  constructor(
    readonly code: string,
    message: string,
    readonly remoteCode: string | null,
  ) {
    super(message);
  }
}

builder.objectType(DataSourceError, {
  name: 'DataSourceError',
  description:
    'The data source (or the way to it) failed. code: AUTH_FAILURE, NOT_FOUND, TIMEOUT, ' +
    'CONNECTOR_ERROR, REFUSED, TOO_LARGE, UNSUPPORTED, UNAVAILABLE (no agent of its group ' +
    'connected) or CANCELLED.',
  // errors.ts keeps its `Error` interface ref to itself; Pothos resolves interfaces by name too.
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof DataSourceError,
  fields: (t) => ({
    remoteCode: t.exposeString('remoteCode', {
      nullable: true,
      description: "The remote system's own code: LDAP result code, SQLSTATE, HTTP status.",
    }),
  }),
});

const commandErrors = [NotFoundError, InvalidInputError, DataSourceError];

/**
 * Runs one command on a data source of the caller's tenant, audited with its outcome (never
 * the data returned). Another tenant's id is NotFound, exactly like an unknown one.
 */
async function runCommand<T>(
  ctx: GraphQLContext,
  id: string,
  action: string,
  detail: Record<string, unknown>,
  call: (tenantId: string, dataSourceId: string) => Promise<T>,
): Promise<T> {
  const tenantId = tenantOf(ctx);
  const local = requireId(id, 'DataSource');
  if (!(await ctx.loaders.dataSource.load(local))) {
    throw new NotFoundError(`data source ${id} not found`);
  }
  const audit = (summary: Record<string, unknown>) =>
    ctx.db.db.transaction((tx) =>
      recordAudit(tx, {
        tenantId,
        actor: actorOf(ctx),
        action: `dataSource.${action}`,
        targetType: 'DataSource',
        targetId: local,
        summary: { ...detail, ...summary },
      }),
    );
  try {
    const result = await call(tenantId, local);
    await audit({ ok: true });
    return result;
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    await audit({ ok: false, code: e.code });
    throw new DataSourceError(
      e.code.toUpperCase(),
      e.message,
      e.remoteCode === undefined ? null : String(e.remoteCode),
    );
  }
}

const TestConnectionResult = builder
  .objectRef<ResultData<'testConnection'>>('TestConnectionResult')
  .implement({
    isTypeOf: (v) => isObject(v) && 'latencyMs' in v,
    fields: (t) => ({
      latencyMs: t.exposeFloat('latencyMs'),
      details: t.exposeString('details', {
        nullable: true,
        description: 'e.g. the server vendor and version, the bound identity.',
      }),
    }),
  });

type Attribute = ResultData<'listAttributes'>['attributes'][number];
const DataSourceAttribute = builder.objectRef<Attribute>('DataSourceAttribute').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.exposeString('type', { nullable: true }),
    multiValued: t.exposeBoolean('multiValued'),
    required: t.exposeBoolean('required'),
    description: t.exposeString('description', { nullable: true }),
  }),
});
const DataSourceAttributes = builder
  .objectRef<ResultData<'listAttributes'>>('DataSourceAttributes')
  .implement({
    isTypeOf: (v) => isObject(v) && 'attributes' in v,
    fields: (t) => ({
      attributes: t.field({ type: [DataSourceAttribute], resolve: (r) => r.attributes }),
    }),
  });

type ResourceType = ResultData<'listResourceTypes'>['resourceTypes'][number];
const DataSourceResourceType = builder.objectRef<ResourceType>('DataSourceResourceType').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    endpoint: t.exposeString('endpoint', { nullable: true }),
    schema: t.exposeString('schema', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
  }),
});
const DataSourceResourceTypes = builder
  .objectRef<ResultData<'listResourceTypes'>>('DataSourceResourceTypes')
  .implement({
    isTypeOf: (v) => isObject(v) && 'resourceTypes' in v,
    fields: (t) => ({
      resourceTypes: t.field({ type: [DataSourceResourceType], resolve: (r) => r.resourceTypes }),
    }),
  });

builder.mutationFields((t) => ({
  testConnection: t.field({
    type: TestConnectionResult,
    description: 'Connects to the data source (through an agent when agent-enabled) and binds.',
    authScopes: { admin: true },
    errors: { types: commandErrors, directResult: true },
    args: { dataSource: t.arg.id({ required: true }) },
    resolve: (_, args, ctx) =>
      runCommand(ctx, args.dataSource, 'testConnection', {}, (tenantId, id) =>
        ctx.services.gateway.call(tenantId, id, 'testConnection', {}),
      ),
  }),
  listAttributes: t.field({
    type: DataSourceAttributes,
    description: 'The attributes the data source offers (LDAP schema, SQL columns, SCIM schema).',
    authScopes: { admin: true },
    errors: { types: commandErrors, directResult: true },
    args: { dataSource: t.arg.id({ required: true }) },
    resolve: (_, args, ctx) =>
      runCommand(ctx, args.dataSource, 'listAttributes', {}, (tenantId, id) =>
        ctx.services.gateway.call(tenantId, id, 'listAttributes', {}),
      ),
  }),
  listResourceTypes: t.field({
    type: DataSourceResourceTypes,
    description: 'The resource types of a SCIM data source (others answer UNSUPPORTED).',
    authScopes: { admin: true },
    errors: { types: commandErrors, directResult: true },
    args: { dataSource: t.arg.id({ required: true }) },
    resolve: (_, args, ctx) =>
      runCommand(ctx, args.dataSource, 'listResourceTypes', {}, (tenantId, id) =>
        ctx.services.gateway.call(tenantId, id, 'listResourceTypes', {}),
      ),
  }),
}));

interface PreviewAttribute {
  name: string;
  values: string[];
  base64: boolean;
}

/**
 * Binary values (objectGUID, jpegPhoto…) arrive as base64; text values as text. An attribute
 * with any binary value is shown wholly in base64 (`base64: true`), so a client decodes all
 * of an attribute's values the same way.
 */
function previewAttribute(name: string, values: AttributeValue[]): PreviewAttribute {
  const binary = values.some((v) => typeof v !== 'string');
  const text = (v: AttributeValue) =>
    typeof v !== 'string' ? v.base64 : binary ? Buffer.from(v).toString('base64') : v;
  return { name, values: values.map(text), base64: binary };
}

const EntryAttribute = builder.objectRef<PreviewAttribute>('EntryAttribute').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    values: t.exposeStringList('values'),
    base64: t.exposeBoolean('base64', {
      description: 'The values are base64 of binary data (every value of this attribute).',
    }),
  }),
});

const DirectoryEntry = builder.objectRef<Entry>('DirectoryEntry').implement({
  fields: (t) => ({
    id: t.exposeString('id', { description: 'DN for LDAP, key for SQL, resource id for SCIM.' }),
    attributes: t.field({
      type: [EntryAttribute],
      resolve: (e) => Object.entries(e.attributes).map(([n, v]) => previewAttribute(n, v)),
    }),
  }),
});

interface Preview {
  entries: Entry[];
  more: boolean;
}

const PreviewSearchResult = builder.objectRef<Preview>('PreviewSearchResult').implement({
  isTypeOf: (v) => isObject(v) && 'entries' in v && 'more' in v,
  fields: (t) => ({
    entries: t.field({ type: [DirectoryEntry], resolve: (p) => p.entries }),
    more: t.exposeBoolean('more', { description: 'More entries match than were returned.' }),
  }),
});

const MAX_PREVIEW = 100;

/** The search payload of a preview, or InvalidInputError; nothing is sent when refused. */
function previewPayload(args: {
  filter?: string | null;
  base?: string | null;
  attributes?: readonly string[] | null;
  limit?: number | null;
}) {
  const limit = args.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PREVIEW) {
    throw new InvalidInputError(`limit must be 1–${MAX_PREVIEW}`, 'invalidValue');
  }
  const attributes = (args.attributes ?? []).map((a) => a.trim());
  if (attributes.some((a) => !a)) {
    throw new InvalidInputError('attribute names must not be empty', 'invalidValue');
  }
  if (attributes.length > MAX_PREVIEW) {
    throw new InvalidInputError(`ask for at most ${MAX_PREVIEW} attributes`, 'invalidValue');
  }
  const filter = args.filter?.trim() || undefined;
  const base = args.base?.trim() || undefined;
  return { filter, base, scope: 'sub' as const, attributes, pageSize: limit, cookie: null };
}

builder.mutationFields((t) => ({
  previewSearch: t.field({
    type: PreviewSearchResult,
    description:
      'The first entries a search of the data source finds (to check a filter or a mapping).',
    authScopes: { admin: true },
    errors: { types: commandErrors, directResult: true },
    args: {
      dataSource: t.arg.id({ required: true }),
      filter: t.arg.string({
        description: 'Connector-native: LDAP filter, SCIM filter, SQL filter object (JSON).',
      }),
      base: t.arg.string({ description: 'LDAP search base (default: the baseDn).' }),
      attributes: t.arg.stringList({ description: 'Default: the connector’s default set.' }),
      limit: t.arg.int({ defaultValue: 20, description: `1–${MAX_PREVIEW}` }),
    },
    resolve: (_, args, ctx) =>
      domain(async () => {
        const payload = previewPayload(args);
        const detail = { filter: payload.filter ?? null, base: payload.base ?? null };
        return runCommand(ctx, args.dataSource, 'previewSearch', detail, async (tenantId, id) => {
          const page = await ctx.services.gateway.call(tenantId, id, 'search', payload);
          return {
            entries: page.entries.slice(0, payload.pageSize),
            more: page.cookie !== null || page.entries.length > payload.pageSize,
          };
        });
      }),
  }),
}));
