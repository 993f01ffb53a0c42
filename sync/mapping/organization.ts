import { parseDn, type Rdn } from '../../agent/connectors/ldap/dn.ts';
import { MappingError } from './values.ts';

function parse(dn: string, what: string): Rdn[] {
  try {
    return parseDn(dn);
  } catch (e) {
    throw new MappingError(`dnToOrganization: ${what} is not a valid DN (${(e as Error).message})`);
  }
}

/**
 * Comparison key of parsed RDNs. ou, dc and cn match case-insensitively (caseIgnoreMatch), so
 * "OU=emea" is "ou=EMEA"; AVAs of a multi-valued RDN in any order.
 */
const keyOf = (rdns: Rdn[]) =>
  JSON.stringify(rdns.map((r) => r.map((a) => `${a.type}=${a.value}`.toLowerCase()).sort()));

/** A base DN parsed once per mapping run (the same for every entry of a job). */
export interface ParsedBase {
  text: string;
  length: number;
  key: string;
}

export function parseBase(base: string): ParsedBase {
  const rdns = parse(base, `the base "${base}"`);
  return { text: base, length: rdns.length, key: keyOf(rdns) };
}

/**
 * DN → organisation path: the `ou` values from the base down (root first), escapes decoded.
 * `cn=Ann,ou=Sales,ou=EMEA,dc=corp,dc=example` → ["EMEA","Sales"]. Other RDNs (cn=Users
 * containers, the entry's own cn/uid, dc) are not organisations and are skipped. With a base
 * DN, only OUs strictly below it count, and an entry outside it is an error (the job's scope
 * and the mapping disagree).
 */
export function dnToOrganizationPath(dn: string, base?: ParsedBase): string[] {
  let rdns = parse(dn, `"${dn}"`);
  if (base && base.length > 0) {
    const cut = rdns.length - base.length;
    if (cut < 0 || keyOf(rdns.slice(cut)) !== base.key) {
      throw new MappingError(`dnToOrganization: "${dn}" is not under "${base.text}"`);
    }
    rdns = rdns.slice(0, cut);
  }
  return rdns
    .flatMap((rdn) => rdn.filter((ava) => ava.type.toLowerCase() === 'ou').map((ava) => ava.value))
    .reverse();
}
