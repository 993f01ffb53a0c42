import type { Actor } from '../../identity/index.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tokenOf } from '../context.ts';
import { localId } from '../ids.ts';
import { NotFoundError } from './errors.ts';

/** Shared small types: sort order, delete payload. */
export const SortOrder = builder.enumType('SortOrder', {
  values: ['ASCENDING', 'DESCENDING'] as const,
});

export interface Deleted {
  deletedId: string;
}

export const DeletePayload = builder.objectRef<Deleted>('DeletePayload').implement({
  description: 'What was deleted, by global id.',
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'deletedId' in v,
  fields: (t) => ({ deletedId: t.exposeID('deletedId') }),
});

/** The local id behind an id argument of a mutation; NotFound when it is not one of `types`. */
export function requireId(id: string, ...types: string[]): string {
  const local = localId(id, ...types);
  if (!local) throw new NotFoundError(`${types[0]} ${id} not found`);
  return local;
}

/** Who an identity-model write is recorded as: the calling token (fields are admin-only). */
export const identityActor = (ctx: GraphQLContext): Actor => ({
  type: 'token',
  id: tokenOf(ctx),
  requestId: ctx.requestId,
});

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** isTypeOf for rows tagged by rows.ts `tag`. */
export const isKind = (kind: string) => (v: unknown) => isObject(v) && v.kind === kind;
