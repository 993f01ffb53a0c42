import { ScimError } from '../../../scim/errors.ts';
import { IdentityError } from '../../identity/errors.ts';
import { TenantError } from '../../tenants.ts';
import { builder } from '../builder.ts';
import { GraphQLError } from '../graphql.ts';

/**
 * Expected failures of a mutation, returned as typed results (plugin-errors) instead of
 * GraphQL errors. Domain errors of the layers below (ScimError, TenantError, IdentityError) are translated
 * here, once; anything else is unexpected and masked by yoga with the request id.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
}

export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
}

/** The input was refused; `reason` is the SCIM scimType or the domain code when there is one. */
export class InvalidInputError extends DomainError {
  readonly code = 'INVALID_INPUT';
  constructor(
    message: string,
    readonly reason: string | null = null,
  ) {
    super(message);
  }
}

/** The object's version changed since the caller read it. */
export class PreconditionFailedError extends DomainError {
  readonly code = 'PRECONDITION_FAILED';
}

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure of a mutation.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.exposeString('code'),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'No such object in your tenant (objects of other tenants answer exactly so).',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof NotFoundError,
});
builder.objectType(ConflictError, {
  name: 'ConflictError',
  description: 'A uniqueness rule refused the change (e.g. a userName already taken).',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof ConflictError,
});
builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof InvalidInputError,
  fields: (t) => ({ reason: t.exposeString('reason', { nullable: true }) }),
});
builder.objectType(PreconditionFailedError, {
  name: 'PreconditionFailedError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof PreconditionFailedError,
});

/** The error types every mutation may return. */
export const mutationErrors = [
  NotFoundError,
  ConflictError,
  InvalidInputError,
  PreconditionFailedError,
];

/** Translates a domain error of a lower layer; returns undefined for unexpected errors. */
export function translate(e: unknown): DomainError | undefined {
  if (e instanceof DomainError) return e;
  if (e instanceof ScimError) {
    if (e.status === 404) return new NotFoundError(e.detail);
    if (e.status === 409) return new ConflictError(e.detail);
    if (e.status === 412) return new PreconditionFailedError(e.detail);
    if (e.status === 400 || e.status === 403) return new InvalidInputError(e.detail, e.scimType);
    return undefined;
  }
  if (e instanceof IdentityError) {
    if (e.code === 'not_found') return new NotFoundError(e.message);
    if (e.code === 'conflict') return new ConflictError(e.message);
    // invalid, cycle, not_empty, invalid_transition: refused as asked; `reason` tells which.
    return new InvalidInputError(e.message, e.code);
  }
  if (e instanceof TenantError) {
    if (e.code === 'tenant_exists') return new ConflictError(e.message);
    if (e.code === 'invalid_name') return new InvalidInputError(e.message, e.code);
    return new NotFoundError(e.message);
  }
  return undefined;
}

/** Runs a mutation body, turning domain errors into typed results. */
export async function domain<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw translate(e) ?? e;
  }
}

/**
 * Runs a query body: a refused argument (bad filter, sort or cursor) is the client's error,
 * reported as a GraphQL error with code BAD_USER_INPUT rather than masked.
 */
export async function queryInput<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const d = translate(e);
    if (!d) throw e;
    throw new GraphQLError(d.message, {
      extensions: {
        code: 'BAD_USER_INPUT',
        reason: d instanceof InvalidInputError ? d.reason : d.code,
      },
    });
  }
}
