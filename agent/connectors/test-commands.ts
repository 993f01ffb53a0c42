/** Test helper: a validated protocol command (defaults applied), deadline `ms` from now. */
import { randomUUID } from 'node:crypto';
import { type Command, type CommandKind, parseCommand } from '../protocol.ts';

export function command(kind: CommandKind, dataSource: string, payload: object = {}, ms = 30_000) {
  const parsed = parseCommand({
    id: randomUUID(),
    kind,
    dataSource,
    deadline: new Date(Date.now() + ms).toISOString(),
    payload,
  });
  if (!parsed.ok) throw new Error(`bad test command: ${parsed.problems.join('; ')}`);
  return parsed.value as Command;
}
