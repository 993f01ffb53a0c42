import type { AttributeValue, Entry } from '../../agent/protocol.ts';
import { entryView, MappingError } from './values.ts';

const hex = (bytes: Buffer, from: number, to: number) => bytes.subarray(from, to).toString('hex');

/**
 * AD objectGUID bytes → canonical UUID text. Windows stores a GUID as {Data1 (uint32 LE),
 * Data2 (uint16 LE), Data3 (uint16 LE), Data4 (8 bytes as is)}, so the first three groups are
 * byte-reversed against the order on the wire; the last two are not.
 */
export function guidBytesToUuid(bytes: Buffer): string {
  if (bytes.length !== 16) {
    throw new MappingError(`base64ToUuid: expected 16 bytes, got ${bytes.length}`);
  }
  const le = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).reverse();
  return [
    le(0, 4).toString('hex'),
    le(4, 6).toString('hex'),
    le(6, 8).toString('hex'),
    hex(bytes, 8, 10),
    hex(bytes, 10, 16),
  ].join('-');
}

/** One LDAP value holding an objectGUID (binary, as the agent sends it) → UUID text. */
export function valueToUuid(value: AttributeValue): string {
  if (typeof value === 'string') {
    throw new MappingError(
      'base64ToUuid: the value is text, not binary (entryUUID needs no transform)',
    );
  }
  return guidBytesToUuid(Buffer.from(value.base64, 'base64'));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The immutable anchor of a directory entry, for account links: OpenLDAP `entryUUID` (text) or
 * AD `objectGUID` as a UUID, lower-cased so both compare as plain strings. Undefined when the
 * entry lacks it (the search did not ask for the operational attribute) — callers must then
 * not link, because a DN is not stable across renames. A malformed anchor throws MappingError.
 */
export function anchorOf(entry: Entry, kind: 'openldap' | 'activeDirectory'): string | undefined {
  const view = entryView(entry);
  const [value] = view.get(kind === 'openldap' ? 'entryUUID' : 'objectGUID');
  if (value === undefined) return undefined;
  if (kind === 'activeDirectory') return valueToUuid(value);
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new MappingError('entryUUID is not a UUID');
  }
  return value.toLowerCase();
}
