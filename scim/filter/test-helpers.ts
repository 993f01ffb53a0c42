import { expect } from 'vitest';
import { ScimError, type ScimType } from '../errors.ts';
import type { CompareOp, FilterNode, FilterValue } from './ast.ts';

/** Tree builders so expectations read like the filters they stand for. Test-only module. */
export const cmp = (path: string, op: CompareOp, value: FilterValue): FilterNode => ({
  kind: 'compare',
  path,
  op,
  value,
});
export const pr = (path: string): FilterNode => ({ kind: 'present', path });
export const and = (left: FilterNode, right: FilterNode): FilterNode => ({
  kind: 'and',
  left,
  right,
});
export const or = (left: FilterNode, right: FilterNode): FilterNode => ({
  kind: 'or',
  left,
  right,
});
export const not = (filter: FilterNode): FilterNode => ({ kind: 'not', filter });
export const vp = (path: string, filter: FilterNode): FilterNode => ({
  kind: 'valuePath',
  path,
  filter,
});

/** Runs `fn` and returns the ScimError it must throw, checking status and scimType. */
export function scimError(fn: () => unknown, status: number, scimType: ScimType): ScimError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScimError);
    const err = e as ScimError;
    expect({ status: err.status, scimType: err.scimType, detail: err.detail }).toMatchObject({
      status,
      scimType,
    });
    return err;
  }
  throw new Error('expected a ScimError, nothing was thrown');
}
