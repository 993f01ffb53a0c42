import { Hono } from 'hono';
import type { AppEnv } from '../api/env.ts';
import type { Db } from '../db/client.ts';
import { readJson } from './body.ts';
import { badRequest, ScimError } from './errors.ts';
import { baseUrl } from './location.ts';
import { scimJson } from './render.ts';
import { kindByEndpoint, type ResourceKind, SCHEMA } from './schemas/index.ts';
import { etagOf } from './serialize.ts';
import {
  createResource,
  patchResource,
  removeResource,
  replaceResource,
  type WriteContext,
} from './service.ts';

interface BulkOp {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  bulkId?: string;
  version?: string;
  path: string;
  data?: Record<string, unknown>;
}

interface BulkResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: Record<string, unknown>;
}

const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BULK_REF = /^bulkId:(.+)$/;

function parseOps(
  body: Record<string, unknown>,
  max: number,
): { ops: BulkOp[]; failOnErrors: number } {
  if (!Array.isArray(body.schemas) || !body.schemas.includes(SCHEMA.bulkRequest)) {
    throw badRequest('invalidSyntax', `a bulk request must carry the schema ${SCHEMA.bulkRequest}`);
  }
  const raw = body.Operations;
  if (!Array.isArray(raw) || raw.length === 0)
    throw badRequest('invalidSyntax', 'Operations must be a non-empty array');
  if (raw.length > max)
    throw new ScimError(413, 'tooMany', `at most ${max} operations per bulk request`);
  const failOnErrors =
    body.failOnErrors === undefined ? Number.POSITIVE_INFINITY : Number(body.failOnErrors);
  if (!Number.isInteger(failOnErrors) && failOnErrors !== Number.POSITIVE_INFINITY) {
    throw badRequest('invalidValue', 'failOnErrors must be an integer');
  }
  const ids = new Set<string>();
  const ops = raw.map((o, i): BulkOp => {
    if (!o || typeof o !== 'object')
      throw badRequest('invalidSyntax', `operation ${i} is not an object`);
    const op = o as Record<string, unknown>;
    const method = String(op.method ?? '').toUpperCase();
    if (!METHODS.has(method))
      throw badRequest(
        'invalidSyntax',
        `operation ${i}: unsupported method "${String(op.method)}"`,
      );
    if (typeof op.path !== 'string' || !op.path.startsWith('/'))
      throw badRequest('invalidSyntax', `operation ${i}: path is required`);
    if (method === 'POST' && typeof op.bulkId !== 'string')
      throw badRequest('invalidSyntax', `operation ${i}: POST needs a bulkId`);
    if (typeof op.bulkId === 'string') {
      if (ids.has(op.bulkId)) throw badRequest('invalidSyntax', `duplicate bulkId "${op.bulkId}"`);
      ids.add(op.bulkId);
    }
    if (
      method !== 'DELETE' &&
      (!op.data || typeof op.data !== 'object' || Array.isArray(op.data))
    ) {
      throw badRequest('invalidSyntax', `operation ${i}: data must be an object`);
    }
    return {
      method: method as BulkOp['method'],
      bulkId: op.bulkId as string | undefined,
      version: op.version as string | undefined,
      path: op.path,
      data: op.data as Record<string, unknown> | undefined,
    };
  });
  return { ops, failOnErrors };
}

/** Every `bulkId:x` string an operation refers to, in its path or anywhere in its data. */
function refsOf(op: BulkOp): Set<string> {
  const refs = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      const m = BULK_REF.exec(v);
      if (m?.[1]) refs.add(m[1]);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(op.path.split('/'));
  walk(op.data);
  return refs;
}

function substitute(v: unknown, created: Map<string, string>): unknown {
  if (typeof v === 'string') {
    const m = BULK_REF.exec(v);
    return m?.[1] && created.has(m[1]) ? created.get(m[1]) : v;
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, created));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, created)]));
  }
  return v;
}

/** The URL of the resource an operation targets; undefined for POST and unusable paths. */
function locationOf(base: string, op: BulkOp, path: string): string | undefined {
  const [, endpoint = '', id, extra] = path.split('/');
  const kind = kindByEndpoint(endpoint);
  if (op.method === 'POST' || !kind || !id || extra !== undefined || BULK_REF.test(id)) return;
  return `${base}${kind.type.endpoint}/${id}`;
}

// RFC 7644 §3.7.3: `location` is required in every result except a failed POST.
const errorResult = (op: BulkOp, e: ScimError, location?: string): BulkResult => ({
  method: op.method,
  ...(op.bulkId ? { bulkId: op.bulkId } : {}),
  ...(location ? { location } : {}),
  status: String(e.status),
  response: {
    schemas: [SCHEMA.error],
    status: String(e.status),
    ...(e.scimType ? { scimType: e.scimType } : {}),
    detail: e.detail,
  },
});

function target(path: string): { kind: ResourceKind; id?: string } {
  const [, endpoint = '', id, extra] = path.split('/');
  const kind = kindByEndpoint(endpoint);
  if (!kind || extra !== undefined)
    throw badRequest('invalidPath', `unsupported bulk path "${path}"`);
  return { kind, id: id || undefined };
}

async function runOne(db: Db, tenantId: string, actor: WriteContext['actor'], op: BulkOp) {
  const { kind, id } = target(op.path);
  const ctx: WriteContext = { db, tenantId, kind, ifMatch: op.version, actor };
  if (op.method === 'POST') {
    if (id) throw badRequest('invalidPath', 'POST goes to a resource type endpoint');
    return { row: await createResource(ctx, op.data ?? {}), status: 201, kind };
  }
  if (!id) throw badRequest('invalidPath', `${op.method} needs a resource id in its path`);
  if (op.method === 'DELETE') {
    await removeResource(ctx, id);
    return { status: 204, kind };
  }
  const row =
    op.method === 'PUT'
      ? await replaceResource(ctx, id, op.data ?? {})
      : await patchResource(ctx, id, op.data ?? {});
  return { row, status: 200, kind };
}

/**
 * Runs operations in dependency order (an operation waits for the bulkIds it refers to),
 * each in its own transaction; circular or failed references fail the dependent operation.
 */
async function runBulk(
  db: Db,
  tenantId: string,
  actor: WriteContext['actor'],
  ops: BulkOp[],
  failOnErrors: number,
  base: string,
): Promise<BulkResult[]> {
  const results = new Map<BulkOp, BulkResult>();
  const created = new Map<string, string>();
  const failed = new Set<string>();
  const pending = ops.map((op) => ({ op, refs: refsOf(op) }));
  let errors = 0;
  while (pending.length && errors < failOnErrors) {
    const idx = pending.findIndex((p) =>
      [...p.refs].every((r) => created.has(r) || failed.has(r) || !ops.some((o) => o.bulkId === r)),
    );
    const next = idx >= 0 ? pending.splice(idx, 1)[0] : pending.shift();
    if (!next) break;
    const { op, refs } = next;
    const path = op.path
      .split('/')
      .map((seg) => substitute(seg, created))
      .join('/');
    try {
      if (idx < 0)
        throw new ScimError(409, undefined, `circular bulkId references: ${[...refs].join(', ')}`);
      const unresolved = [...refs].filter((r) => !created.has(r));
      if (unresolved.length)
        throw new ScimError(
          409,
          'invalidValue',
          `bulkId references could not be resolved: ${unresolved.join(', ')}`,
        );
      const resolved: BulkOp = {
        ...op,
        path,
        data: substitute(op.data, created) as Record<string, unknown> | undefined,
      };
      const out = await runOne(db, tenantId, actor, resolved);
      if (op.bulkId && out.row) created.set(op.bulkId, out.row.id);
      results.set(op, {
        method: op.method,
        ...(op.bulkId ? { bulkId: op.bulkId } : {}),
        ...(out.row
          ? {
              version: etagOf(out.row.version),
              location: `${base}${out.kind.type.endpoint}/${out.row.id}`,
            }
          : { location: locationOf(base, op, path) }),
        status: String(out.status),
      });
    } catch (e) {
      if (!(e instanceof ScimError)) throw e;
      errors++;
      if (op.bulkId) failed.add(op.bulkId);
      results.set(op, errorResult(op, e, locationOf(base, op, path)));
    }
  }
  return ops.filter((o) => results.has(o)).map((o) => results.get(o) as BulkResult);
}

/** `POST /Bulk` (RFC 7644 §3.7). */
export const bulkRoutes = new Hono<AppEnv>().post('/', async (c) => {
  const { db, config } = c.get('services');
  const { ops, failOnErrors } = parseOps(await readJson(c), config.scim.maxBulkOperations);
  const principal = c.get('principal');
  const actor = { type: 'token' as const, id: principal.tokenId, requestId: c.get('requestId') };
  const results = await runBulk(db, principal.tenantId, actor, ops, failOnErrors, baseUrl(c));
  return scimJson(c, { schemas: [SCHEMA.bulkResponse], Operations: results });
});
