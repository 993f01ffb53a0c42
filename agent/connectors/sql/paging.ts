/**
 * Keyset paging and entry ids. Both carry key values as PostgreSQL's text form of the key
 * columns (`col::text`), which PostgreSQL casts back to the column type when compared.
 */
import { refused } from '../errors.ts';

/** base64url JSON of the last row's key values; the next page starts strictly after them. */
export const encodeCookie = (key: string[]) =>
  Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

export function decodeCookie(cookie: string, keyCount: number): string[] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cookie, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === keyCount && v.every((x) => typeof x === 'string')) {
      return v;
    }
  } catch {}
  throw refused('invalid paging cookie: pass the cookie of the previous page unchanged');
}

const escapePart = (v: string) => v.replace(/\\/g, '\\\\').replace(/,/g, '\\,');

/**
 * The entry id: a single key column's text value as is; for a composite key the values
 * joined with "," where "\" and "," inside a value are escaped as "\\" and "\,".
 */
export function entryId(values: string[]): string {
  return values.length === 1 ? (values[0] ?? '') : values.map(escapePart).join(',');
}

/** Inverse of entryId for `count` key columns (undefined when the id has another arity). */
export function parseEntryId(id: string, count: number): string[] | undefined {
  if (count === 1) return [id];
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < id.length; i++) {
    const ch = id[i];
    if (ch === '\\' && i + 1 < id.length) current += id[++i];
    else if (ch === ',') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.length === count ? parts : undefined;
}
