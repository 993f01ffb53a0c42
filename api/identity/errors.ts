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

/** The unique index a statement violated (23505), '' when unnamed, undefined for any other failure. */
function violatedIndex(e: unknown): string | undefined {
  if (pgCode(e) !== '23505') return undefined;
  for (let c: unknown = e, i = 0; c && i < 4; i++) {
    const name = (c as { constraint_name?: unknown }).constraint_name;
    if (typeof name === 'string') return name;
    c = (c as { cause?: unknown }).cause;
  }
  return '';
}

/**
 * Runs a write; a unique-index violation (23505) becomes a `conflict`. `message` is what to
 * say, or a map from index name to what to say when several unique indexes may refuse it.
 */
export async function unlessTaken<T>(
  message: string | Record<string, string>,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const index = violatedIndex(e);
    if (index === undefined) throw e;
    const text = typeof message === 'string' ? message : message[index];
    throw new IdentityError('conflict', text ?? 'a uniqueness rule refused the change');
  }
}

/** Whether a string is a well-formed id (a uuid). */
export const isId = (s: string): boolean => isUuid(s);

/** Ids are uuids; anything else is simply not found (never a database cast error). */
export function checkId(what: string, id: string): string {
  if (!isId(id)) throw notFound(what, id);
  return id;
}
