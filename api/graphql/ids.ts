import { decodeGlobalID } from '@pothos/plugin-relay';
import { isUuid } from '../../scim/store/keys.ts';

/**
 * The local id behind an id argument: a global id of one of `types`, or (for convenience in
 * the playground) a bare SCIM id. Anything else is null — never an error that tells whether
 * the object exists elsewhere.
 */
export function localId(id: string, ...types: string[]): string | null {
  if (isUuid(id)) return id.toLowerCase();
  const decoded = decodeTyped(id);
  return decoded && types.includes(decoded.typename) ? decoded.id : null;
}

/** Decodes a global id to its type name and (uuid) local id, or null. */
export function decodeTyped(id: string): { typename: string; id: string } | null {
  try {
    const d = decodeGlobalID(id);
    return isUuid(d.id) ? { typename: d.typename, id: d.id.toLowerCase() } : null;
  } catch {
    return null;
  }
}
