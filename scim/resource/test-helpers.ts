import { expect } from 'vitest';
import { ScimError, type ScimType } from '../errors.ts';

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
