import type { AttributeValue, Entry } from '../../agent/protocol.ts';

/**
 * What flows through a transform chain. `values` is an LDAP attribute as read (possibly binary);
 * the others are what SCIM targets take. `undefined` stands for "no value" everywhere.
 */
export type Val =
  | { kind: 'values'; v: AttributeValue[] }
  | { kind: 'text'; v: string }
  | { kind: 'boolean'; v: boolean }
  | { kind: 'path'; v: string[] };
export type ValKind = Val['kind'];

/** A value the mapping cannot use: becomes one `target: message` problem of the entry. */
export class MappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

/** Options of a mapping run that come from the sync job, not the mapping. */
export interface MappingContext {
  /** The job's base DN: dnToOrganization counts only OUs below it. */
  baseDn?: string;
}

/** The entry as transforms see it: attributes looked up case-insensitively (LDAP names are). */
export interface EntryView {
  dn: string;
  get(name: string): AttributeValue[];
  ctx: MappingContext;
}

export function entryView(entry: Entry, ctx: MappingContext = {}): EntryView {
  const index = new Map<string, AttributeValue[]>();
  for (const [name, values] of Object.entries(entry.attributes)) {
    const key = name.toLowerCase();
    // Two spellings of one attribute should not happen; if they do, keep every value.
    const seen = index.get(key);
    index.set(key, seen ? [...seen, ...values] : values);
  }
  return { dn: entry.id, get: (name) => index.get(name.toLowerCase()) ?? [], ctx };
}

/** Text of one LDAP value; binary values only reach transforms that ask for bytes. */
export function textOf(value: AttributeValue, step: string): string {
  if (typeof value === 'string') return value;
  throw new MappingError(`${step}: the value is binary; use base64ToUuid or map another attribute`);
}

/** First value of an LDAP attribute as text, or the text itself. */
export function firstText(input: Val, step: string): string | undefined {
  if (input.kind === 'text') return input.v;
  if (input.kind !== 'values') throw new MappingError(`${step}: expects text`);
  const [first] = input.v;
  return first === undefined ? undefined : textOf(first, step);
}

/** Empty results count as missing, as an empty string does in a SCIM document. */
export function orMissing(val: Val | undefined): Val | undefined {
  if (!val) return undefined;
  if (val.kind === 'text' && val.v === '') return undefined;
  if ((val.kind === 'values' || val.kind === 'path') && val.v.length === 0) return undefined;
  return val;
}
