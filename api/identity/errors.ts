import { pgCode } from '../../scim/render.ts';
import { isUuid } from '../../scim/store/keys.ts';

/** The closed set of domain failures; GraphQL maps each code to a typed error result. */
export type IdentityErrorCode =
  | 'not_found'
  | 'conflict'
  | 'invalid'
  | 'not_empty'
  | 'invalid_transition'
  | 'cycle';

/**
 * A refused identity-model operation. The message is safe to show an admin (names and ids,
 * never secrets); `code` is what callers branch on.
 */
export class IdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}

/** The same answer for an unknown id and another tenant's id. */
export const notFound = (what: string, id: string) =>
  new IdentityError('not_found', `${what} ${id} not found`);

/** Runs a write; a unique-index violation (23505) becomes a `conflict` with the given message. */
export async function unlessTaken<T>(message: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (pgCode(e) === '23505') throw new IdentityError('conflict', message);
    throw e;
  }
}

/** Whether a string is a well-formed id (a uuid). */
export const isId = (s: string): boolean => isUuid(s);

/** Ids are uuids; anything else is simply not found (never a database cast error). */
export function checkId(what: string, id: string): string {
  if (!isId(id)) throw notFound(what, id);
  return id;
}
