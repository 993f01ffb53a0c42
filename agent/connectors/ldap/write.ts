/**
 * Writes: add, modify, modrdn, delete. Every DN is parsed with dn.ts first, so a malformed DN is
 * refused here instead of being interpreted by the server; `{ base64 }` values become Buffers.
 */
import { Attribute, Change, ModifyDNRequest, StatusCodeParser } from 'ldapts';
import type { LdapConnection } from './connection.ts';
import { parseDn } from './dn.ts';
import type { LdapValue } from './entries.ts';
import { LdapConnectorError } from './errors.ts';

export interface LdapChange {
  operation: 'add' | 'delete' | 'replace';
  attribute: string;
  values: LdapValue[];
}

/** A non-empty DN, syntax-checked (RFC 4514); the string is sent as given. */
function entryDn(dn: string, what = 'dn'): string {
  if (parseDn(dn).length === 0)
    throw new LdapConnectorError('refused', `${what} must not be empty`);
  return dn;
}

/** ldapts takes all-strings or all-Buffers: one binary value turns the whole list into Buffers. */
function toAttribute(type: string, values: LdapValue[]): Attribute {
  if (values.every((v): v is string => typeof v === 'string')) {
    return new Attribute({ type, values });
  }
  const buffers = values.map((v) =>
    typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.base64, 'base64'),
  );
  return new Attribute({ type, values: buffers });
}

export async function addEntry(
  conn: LdapConnection,
  dn: string,
  attributes: Record<string, LdapValue[]>,
): Promise<void> {
  const list = Object.entries(attributes).map(([type, values]) => toAttribute(type, values));
  await conn.ready();
  await conn.client.add(entryDn(dn), list);
}

export async function modifyEntry(
  conn: LdapConnection,
  dn: string,
  changes: LdapChange[],
): Promise<void> {
  const list = changes.map(
    (c) => new Change({ operation: c.operation, modification: toAttribute(c.attribute, c.values) }),
  );
  await conn.ready();
  await conn.client.modify(entryDn(dn), list);
}

/** ldapts' modifyDN always deletes the old RDN and splits newSuperior itself; we send our own. */
export async function modrdnEntry(
  conn: LdapConnection,
  dn: string,
  newRdn: string,
  deleteOldRdn: boolean,
  newSuperior?: string,
): Promise<void> {
  entryDn(dn);
  if (parseDn(newRdn).length !== 1) {
    throw new LdapConnectorError('refused', 'newRdn must be exactly one RDN, like "uid=alice"');
  }
  if (newSuperior !== undefined) entryDn(newSuperior, 'newSuperior');
  await conn.ready();
  const request = new ModifyDNRequest({
    messageId: conn.nextMessageId(),
    dn,
    newRdn,
    deleteOldRdn,
    ...(newSuperior !== undefined ? { newSuperior } : {}),
  });
  const result = await conn.send(request);
  if (result?.status !== 0) throw StatusCodeParser.parse(result);
}

export async function deleteEntry(conn: LdapConnection, dn: string): Promise<void> {
  await conn.ready();
  await conn.client.del(entryDn(dn));
}
