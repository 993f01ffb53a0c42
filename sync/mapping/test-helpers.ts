import { expect } from 'vitest';
import type { Entry } from '../../agent/protocol.ts';
import { applyMapping, type MappingResult } from './apply.ts';
import { type CompiledMapping, compileMapping } from './compile.ts';
import type { MappingContext } from './values.ts';

/** Compiles a mapping that the test expects to be valid. */
export function compiled(rules: unknown[]): CompiledMapping {
  const result = compileMapping({ rules });
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.mapping;
}

/** The problems of a mapping that the test expects to be refused. */
export function problemsOf(rules: unknown[]): string[] {
  const result = compileMapping({ rules });
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.problems;
}

const USER = { target: 'userName', source: 'uid' };

/** Maps one rule (plus userName ← uid) over attributes; returns the result. */
export function mapOne(
  rule: Record<string, unknown>,
  attributes: Entry['attributes'],
  opts: { dn?: string; ctx?: MappingContext } = {},
): MappingResult {
  const entry: Entry = {
    id: opts.dn ?? 'uid=u1,dc=example',
    attributes: { uid: ['u1'], ...attributes },
  };
  return applyMapping(compiled([USER, rule]), entry, opts.ctx);
}

/** The mapped user of a successful mapping. */
export function userOf(result: MappingResult) {
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.user;
}

export const b64 = (hex: string) => ({ base64: Buffer.from(hex, 'hex').toString('base64') });
