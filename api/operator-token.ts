import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** The platform operator's credential: tenant management in GraphQL, the queue dashboard. */
export interface OperatorAuth {
  verify(token: string): boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** An operator credential checked in constant time against its SHA-256. */
export function operatorAuth(token: string): OperatorAuth {
  const expected = digest(token);
  return { verify: (presented) => timingSafeEqual(digest(presented), expected) };
}

/**
 * `IDHUB_OPERATOR_TOKEN` when set (automation, containers, several replicas); otherwise a token
 * generated at first start, printed once, and kept in a 0600 file in the data dir.
 */
export async function resolveOperatorToken(
  configured: string | undefined,
  dataDir: string,
  logger: Logger,
  print: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<OperatorAuth> {
  if (configured) return operatorAuth(configured);
  const file = path.join(dataDir, 'operator-token');
  if (existsSync(file)) return operatorAuth((await fs.readFile(file, 'utf8')).trim());
  const token = `idh_op_${randomBytes(32).toString('base64url')}`;
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  logger.info({ file }, 'generated the operator token');
  print(`idhub operator token (shown once, also in ${file}): ${token}`);
  return operatorAuth(token);
}
