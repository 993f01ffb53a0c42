import { expect } from 'vitest';
import { ScimError, type ScimType } from '../errors.ts';
import { SCHEMA, userKind } from '../schemas/index.ts';
import { applyPatch, parsePatchRequest } from './patch.ts';
import type { ScimDoc } from './types.ts';

/** Asserts that `fn` throws a ScimError with this status and scimType; returns it. */
export function expectScimError(fn: () => unknown, status: number, scimType?: ScimType): ScimError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a ScimError').toBeInstanceOf(ScimError);
  const err = caught as ScimError;
  expect({ status: err.status, scimType: err.scimType }).toEqual({ status, scimType });
  return err;
}

export const USER_ID = '2819c223-7f76-453a-919d-413861904646';

/** The user document the PATCH tests start from. */
export const baseUser = (): ScimDoc => ({
  schemas: [SCHEMA.user],
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
});

/** Runs a PatchOp body on a user exactly as a client sends it. */
export const patchUser = (doc: ScimDoc, Operations: unknown[]) =>
  applyPatch(
    userKind,
    { id: USER_ID, doc },
    parsePatchRequest({ schemas: [SCHEMA.patchOp], Operations }),
  );

/** Asserts that the PATCH is refused with 400 and this scimType. */
export const patchUserFails = (doc: ScimDoc, ops: unknown[], scimType: ScimType) =>
  expectScimError(() => patchUser(doc, ops), 400, scimType);
