/**
 * LDAP search filters, built only from ldapts filter objects or from templates whose
 * interpolated values are escaped (RFC 4515). Values never become filter syntax.
 */
import {
  AndFilter,
  EqualityFilter,
  type Filter,
  FilterParser,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  PresenceFilter,
  SubstringFilter,
} from 'ldapts';

export class FilterSyntaxError extends Error {
  readonly code = 'invalid_filter';
  constructor(message: string) {
    super(message);
    this.name = 'FilterSyntaxError';
  }
}

/** Attribute description: name or OID, with options such as `;binary` or `;range=0-1499`. */
const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)(?:;[A-Za-z0-9=-]+)*$/;

function attr(name: string): string {
  if (!ATTRIBUTE.test(name)) {
    throw new FilterSyntaxError(`invalid attribute description: ${JSON.stringify(name)}`);
  }
  return name;
}

/** Escapes a value for filter text (RFC 4515 §3): `*`, `(`, `)`, `\`, NUL; Buffers fully hex. */
export function escapeFilter(value: string | Buffer): string {
  if (Buffer.isBuffer(value)) return Array.from(value, (b) => `\\${hex(b)}`).join('');
  let out = '';
  for (const ch of value) {
    if (ch === '*' || ch === '(' || ch === ')' || ch === '\\' || ch === '\0') {
      out += `\\${hex(ch.charCodeAt(0))}`;
    } else out += ch;
  }
  return out;
}

const hex = (b: number) => b.toString(16).padStart(2, '0');

export const eq = (attribute: string, value: string | Buffer): Filter =>
  new EqualityFilter({ attribute: attr(attribute), value });
export const gte = (attribute: string, value: string): Filter =>
  new GreaterThanEqualsFilter({ attribute: attr(attribute), value });
export const lte = (attribute: string, value: string): Filter =>
  new LessThanEqualsFilter({ attribute: attr(attribute), value });
export const present = (attribute: string): Filter =>
  new PresenceFilter({ attribute: attr(attribute) });
export const and = (...filters: Filter[]): Filter => new AndFilter({ filters });
export const or = (...filters: Filter[]): Filter => new OrFilter({ filters });
export const not = (filter: Filter): Filter => new NotFilter({ filter });

/** `initial*any*…*final`; each part is a literal value (a `*` in it is data, not a wildcard). */
export function substring(
  attribute: string,
  parts: { initial?: string; any?: string[]; final?: string },
): Filter {
  const opts: { attribute: string; initial?: string; any: string[]; final?: string } = {
    attribute: attr(attribute),
    any: parts.any ?? [],
  };
  if (parts.initial) opts.initial = parts.initial;
  if (parts.final) opts.final = parts.final;
  return new SubstringFilter(opts);
}
export const startsWith = (attribute: string, value: string) =>
  substring(attribute, { initial: value });
export const contains = (attribute: string, value: string) =>
  substring(attribute, { any: [value] });

/**
 * Tagged template: `ldapFilter\`(&(objectClass=person)(uid=${uid}))\`` escapes every
 * interpolation with `escapeFilter` and parses the result into a filter object, so a value
 * such as `*)(uid=*))(|(uid=*` stays one literal assertion value. Binary values (objectGUID)
 * go through `eq(attribute, buffer)` instead: filter text cannot carry them losslessly here.
 */
export function ldapFilter(strings: TemplateStringsArray, ...values: string[]): Filter {
  let text = strings[0] ?? '';
  values.forEach((v, i) => {
    text += escapeFilter(v) + (strings[i + 1] ?? '');
  });
  return parseFilter(text);
}

/** Parses trusted filter text (configuration, an admin's preview filter) into a filter object. */
export function parseFilter(text: string): Filter {
  checkBalanced(text);
  try {
    return FilterParser.parseString(text);
  } catch (e) {
    throw new FilterSyntaxError(`invalid LDAP filter: ${(e as Error).message}`);
  }
}

/** ldapts accepts `(&(uid=a)` (a missing final paren); we do not. Parens in values are `\28`/`\29`. */
function checkBalanced(text: string): void {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) break;
  }
  if (depth !== 0) throw new FilterSyntaxError('invalid LDAP filter: unbalanced parentheses');
}
