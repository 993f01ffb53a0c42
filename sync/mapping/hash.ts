import { hash } from 'node:crypto';

/**
 * sha256 (hex) of a mapped state. The mapping builds its document in rule order, so plain JSON
 * is already deterministic for a given mapping and entry (whatever the directory's attribute
 * order or name case); canonicalJson would cost a sort per object for every entry of every
 * run. Reordering a mapping's rules changes the hashes once (the next run rewrites those users).
 */
export const stateHash = (value: unknown): string => hash('sha256', JSON.stringify(value), 'hex');
