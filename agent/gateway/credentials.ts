/**
 * Agent credentials: basic passwords are stored as scrypt hashes only; client certificates are
 * registered by their SHA-256 fingerprint (pinning: TLS proves the agent holds the key).
 */
import { randomBytes, scrypt, timingSafeEqual, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const PARAMS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEYLEN = 32;

/** `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashAgentPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEYLEN, PARAMS);
  return [
    'scrypt',
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

export async function verifyAgentPassword(password: string, stored: string): Promise<boolean> {
  const [tag, n, r, p, salt, hash] = stored.split('$');
  if (tag !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: PARAMS.maxmem,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A new agent password: 32 random bytes, shown once at registration. */
export const newAgentPassword = () => `idha_${randomBytes(32).toString('base64url')}`;

/**
 * Normalises a SHA-256 fingerprint to upper-case colon-separated hex (Node's `fingerprint256`
 * form); accepts plain hex or colons, any case. Undefined when it is not 32 bytes of hex.
 */
export function normalizeFingerprint(input: string): string | undefined {
  const hex = input.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)?.join(':');
}

/** The SHA-256 fingerprint of a PEM certificate, in normalised form. */
export function fingerprintOfPem(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
