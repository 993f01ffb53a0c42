/** Search entries as the protocol carries them: DN + attributes, binary values as base64. */
export type LdapValue = string | { base64: string };
export interface LdapEntry {
  /** The DN exactly as the server sent it (compare with dnEquals, never as plain strings). */
  id: string;
  attributes: Record<string, LdapValue[]>;
}

/** Attributes that are binary by definition even when their bytes happen to be valid UTF-8. */
export const BINARY_ATTRIBUTES = [
  'objectGUID',
  'objectSid',
  'invocationId',
  'jpegPhoto',
  'thumbnailPhoto',
  'userCertificate',
  'cACertificate',
  'msExchMailboxGuid',
  'mS-DS-ConsistencyGuid',
  'userPKCS12',
  'audio',
  'photo',
];

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text when the attribute is not known binary and the bytes are valid UTF-8; base64 otherwise. */
export function encodeValue(binary: boolean, raw: Buffer): LdapValue {
  if (!binary) {
    try {
      return utf8.decode(raw);
    } catch {}
  }
  return { base64: raw.toString('base64') };
}

export function isBinaryAttribute(type: string, extra: ReadonlySet<string>): boolean {
  const base = type.split(';')[0]?.toLowerCase() ?? '';
  return type.toLowerCase().includes(';binary') || extra.has(base);
}

export function binarySet(names: readonly string[]): Set<string> {
  return new Set([...BINARY_ATTRIBUTES, ...names].map((n) => n.toLowerCase()));
}

const RANGE = /^(.+);range=(\d+)-(\d+|\*)$/i;

/** `member;range=0-1499` → { name: 'member', next: 1500 }; `…-*` → next undefined (done). */
export function parseRange(type: string): { name: string; next?: number } | undefined {
  const m = RANGE.exec(type);
  if (!m) return undefined;
  const [, name = '', , end = '*'] = m;
  return end === '*' ? { name } : { name, next: Number(end) + 1 };
}

/**
 * AD range retrieval: folds `attr;range=a-b` values under `attr` and keeps reading
 * `attr;range=<next>-*` on the entry until the server answers a range ending in `*`.
 */
export async function followRanges(
  entry: LdapEntry,
  fetch: (dn: string, attribute: string) => Promise<LdapEntry | undefined>,
): Promise<LdapEntry> {
  const attributes: Record<string, LdapValue[]> = {};
  const pending: { name: string; next: number }[] = [];
  for (const [type, values] of Object.entries(entry.attributes)) {
    const range = parseRange(type);
    const key = range?.name ?? type;
    attributes[key] = [...(attributes[key] ?? []), ...values];
    if (range?.next !== undefined) pending.push({ name: range.name, next: range.next });
  }
  for (let item = pending.shift(); item; item = pending.shift()) {
    const more = await fetch(entry.id, `${item.name};range=${item.next}-*`);
    const hit = Object.entries(more?.attributes ?? {}).find(
      ([t]) => parseRange(t)?.name.toLowerCase() === item.name.toLowerCase(),
    );
    if (!hit) break;
    const [type, values] = hit;
    attributes[item.name] = [...(attributes[item.name] ?? []), ...values];
    const range = parseRange(type);
    if (range?.next !== undefined && values.length > 0) {
      pending.push({ name: item.name, next: range.next });
    }
  }
  return { id: entry.id, attributes };
}
