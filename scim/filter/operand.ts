import { badRequest } from '../errors.ts';
import type { AttributeDef } from '../schemas/index.ts';
import type { CompareOp, FilterValue } from './ast.ts';

export type OrderOp = 'gt' | 'ge' | 'lt' | 'le';
export type StringOp = 'eq' | 'co' | 'sw' | 'ew' | OrderOp;

/**
 * A comparison checked against the attribute's type, shared by the SQL compiler and the
 * in-memory matcher so both accept exactly the same filters. `ne` never appears: it is
 * "not eq" (`negate`), which also makes it true where the attribute is absent.
 */
export type Operand =
  | { type: 'absent'; negate: boolean }
  | { type: 'string'; op: StringOp; value: string; caseExact: boolean; negate: boolean }
  | { type: 'boolean'; value: boolean; negate: boolean }
  | { type: 'number'; op: 'eq' | OrderOp; value: number; negate: boolean }
  | { type: 'date'; op: 'eq' | OrderOp; value: string; ms: number; negate: boolean };

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

const MIN_DATE_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_DATE_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Parses an xsd:dateTime-like literal (a date alone, or with time; no zone means UTC) into
 * epoch ms and a canonical ISO string. Anything else → undefined, so it never reaches SQL.
 */
export function parseDateLiteral(text: string): { ms: number; iso: string } | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, time, zone] = m;
  const full = time === undefined ? `${text}T00:00:00Z` : zone === undefined ? `${text}Z` : text;
  const ms = Date.parse(full);
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (Number.isNaN(ms) || day.getUTCDate() !== Number(d) || day.getUTCMonth() !== Number(mo) - 1) {
    return undefined;
  }
  // PostgreSQL has no year 0 and reads no 6-digit ISO years: outside 0001–9999 UTC was a 500.
  if (ms < MIN_DATE_MS || ms > MAX_DATE_MS) return undefined;
  return { ms, iso: new Date(ms).toISOString() };
}

const invalid = (path: string, why: string) => badRequest('invalidFilter', `'${path}': ${why}`);
const isOrder = (op: CompareOp): op is OrderOp =>
  op === 'gt' || op === 'ge' || op === 'lt' || op === 'le';

function toBoolean(value: FilterValue, path: string): boolean {
  if (typeof value === 'boolean') return value;
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  // Entra and OneLogin send booleans as "True"/"False"; accept those, nothing fuzzier.
  if (lower === 'true' || lower === 'false') return lower === 'true';
  throw invalid(path, 'expects true or false');
}

/**
 * Checks `op value` against the attribute definition and returns the typed comparison.
 * Type/operator mismatches (gt on a boolean, co on a date, a number for a string) → 400
 * invalidFilter rather than a comparison that silently matches nothing or everything.
 */
export function toOperand(
  def: AttributeDef,
  op: CompareOp,
  value: FilterValue,
  path: string,
): Operand {
  const negate = op === 'ne';
  const base = negate ? 'eq' : op;
  if (value === null) {
    if (base !== 'eq') throw invalid(path, 'null can only be compared with eq or ne');
    return { type: 'absent', negate };
  }
  switch (def.type) {
    case 'boolean':
      if (base !== 'eq') throw invalid(path, `operator ${op} does not apply to a boolean`);
      return { type: 'boolean', value: toBoolean(value, path), negate };
    case 'integer':
    case 'decimal':
      if (typeof value !== 'number') throw invalid(path, 'expects a number');
      if (base !== 'eq' && !isOrder(base))
        throw invalid(path, `operator ${op} does not apply to a number`);
      return { type: 'number', op: base, value, negate };
    case 'dateTime': {
      const date = typeof value === 'string' ? parseDateLiteral(value) : undefined;
      if (!date) throw invalid(path, 'expects a date-time string such as "2024-01-31T12:00:00Z"');
      if (base !== 'eq' && !isOrder(base))
        throw invalid(path, `operator ${op} does not apply to a date-time`);
      return { type: 'date', op: base, value: date.iso, ms: date.ms, negate };
    }
    case 'complex':
      throw invalid(path, 'a complex attribute cannot be compared');
    default:
      if (typeof value !== 'string') throw invalid(path, 'expects a quoted string');
      return { type: 'string', op: base, value, caseExact: def.caseExact, negate };
  }
}
