import fs from 'node:fs/promises';

/**
 * A CA setting is PEM text (data sources the hub reaches directly store it inline, see
 * direct.ts) or a file path (application.yaml, resolved and checked at load).
 */
export async function loadCa(ca: string | undefined): Promise<string | Buffer | undefined> {
  if (!ca) return undefined;
  if (ca.trimStart().startsWith('-----BEGIN')) return ca;
  return fs.readFile(ca);
}
