import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { resolveOperatorToken } from './operator-token.ts';

const logger = pino({ level: 'silent' });

describe('operator token', () => {
  it('uses IDHUB_OPERATOR_TOKEN when set and writes nothing', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idhub-op-'));
    const printed: string[] = [];
    const auth = await resolveOperatorToken('configured-operator-token-123456', dir, logger, (l) =>
      printed.push(l),
    );
    expect(auth.verify('configured-operator-token-123456')).toBe(true);
    expect(auth.verify('configured-operator-token-12345')).toBe(false);
    expect(printed).toEqual([]);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('generates one at first start, prints it once, keeps it in a 0600 file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idhub-op-'));
    const printed: string[] = [];
    const first = await resolveOperatorToken(undefined, dir, logger, (l) => printed.push(l));
    expect(printed).toHaveLength(1);
    const token = /(idh_op_\S+)/.exec(printed[0] ?? '')?.[1] as string;
    expect(first.verify(token)).toBe(true);
    const file = path.join(dir, 'operator-token');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const again = await resolveOperatorToken(undefined, dir, logger, (l) => printed.push(l));
    expect(printed).toHaveLength(1);
    expect(again.verify(token)).toBe(true);
    expect(again.verify('idh_op_other')).toBe(false);
  });
});
