import { formatDn, normalizeDn, parseDn, type Rdn } from '../../agent/connectors/ldap/dn.ts';
import { MappingError } from './values.ts';

function parse(dn: string, what: string): Rdn[] {
  try {
    return parseDn(dn);
  } catch (e) {
    throw new MappingError(`dnToOrganization: ${what} is not a valid DN (${(e as Error).message})`);
  }
}

/**
 * DN → organisation path: the `ou` values from the base down (root first), escapes decoded.
 * `cn=Ann,ou=Sales,ou=EMEA,dc=corp,dc=example` → ["EMEA","Sales"]. Other RDNs (cn=Users
 * containers, the entry's own cn/uid, dc) are not organisations and are skipped. With a base
 * DN, only OUs strictly below it count, and an entry outside it is an error (the job's scope
 * and the mapping disagree).
 */
export function dnToOrganizationPath(dn: string, base?: string): string[] {
  let rdns = parse(dn, `"${dn}"`);
  if (base !== undefined && base.trim() !== '') {
    const baseRdns = parse(base, `the base "${base}"`);
    const tail = rdns.slice(rdns.length - baseRdns.length);
    const under =
      rdns.length >= baseRdns.length &&
      normalizeDn(formatDn(tail)) === normalizeDn(formatDn(baseRdns));
    if (!under) throw new MappingError(`dnToOrganization: "${dn}" is not under "${base}"`);
    rdns = rdns.slice(0, rdns.length - baseRdns.length);
  }
  return rdns
    .flatMap((rdn) => rdn.filter((ava) => ava.type.toLowerCase() === 'ou').map((ava) => ava.value))
    .reverse();
}
