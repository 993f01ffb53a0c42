import { describe, expect, it } from 'vitest';
import {
  type CommandInput,
  commandSchema,
  encodeResult,
  failure,
  formatSse,
  formatSseComment,
  formatSseEvent,
  formatSseHeartbeat,
  formatSseRetry,
  MAX_RESULT_BYTES,
  PROTOCOL_VERSION,
  parseCommand,
  parseCommandEvent,
  parseResult,
  resultPath,
  type SseMessage,
  SseParser,
} from './protocol.ts';

const id = '3f1c2a4e-8b7d-4c3e-9a1b-2d3e4f5a6b7c';
const deadline = '2030-01-01T00:00:00.000Z';
const cmd = (kind: string, payload?: unknown) => ({
  id,
  kind,
  dataSource: 'corp-ldap',
  deadline,
  payload,
});

function problemsOf(input: unknown): string[] {
  const r = parseCommand(input);
  if (r.ok) throw new Error('expected a failure');
  return r.problems;
}

describe('commands', () => {
  it('is version 1', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(resultPath(id)).toBe(`/agent/v1/commands/${id}/result`);
  });

  it.each(['ping', 'testConnection', 'listAttributes', 'listResourceTypes'])(
    'accepts %s with an empty or absent payload',
    (kind) => {
      expect(parseCommand(cmd(kind)).ok).toBe(true);
      expect(parseCommand(cmd(kind, {})).ok).toBe(true);
      expect(problemsOf(cmd(kind, { x: 1 })).join()).toMatch(/payload: Unrecognized key: "x"/);
    },
  );

  it('applies search defaults', () => {
    const r = parseCommand(cmd('search', { filter: '(uid=a*)' }));
    expect(r.ok && r.value.kind === 'search' && r.value.payload).toEqual({
      filter: '(uid=a*)',
      scope: 'sub',
      attributes: [],
      pageSize: 500,
      cookie: null,
    });
  });

  it('lists every problem of a bad search, with paths', () => {
    const problems = problemsOf({
      id: 'not-a-uuid',
      kind: 'search',
      dataSource: 'bad name!',
      deadline: 'tomorrow',
      payload: { scope: 'subtree', pageSize: 0, attributes: [''], cookie: 5 },
    });
    const text = problems.join('\n');
    for (const path of [
      'id:',
      'dataSource:',
      'deadline:',
      'payload.scope:',
      'payload.pageSize:',
      'payload.attributes.0:',
      'payload.cookie:',
    ]) {
      expect(text).toContain(path);
    }
    expect(problems).toHaveLength(7);
  });

  it('rejects an unknown kind readably', () => {
    expect(problemsOf(cmd('format', {})).join()).toMatch(/^kind: /);
  });

  it.each([
    { connector: 'ldap', op: 'add', dn: 'uid=a,dc=x', attributes: { cn: ['A'] } },
    {
      connector: 'ldap',
      op: 'modify',
      dn: 'uid=a,dc=x',
      changes: [{ operation: 'replace', attribute: 'mail', values: ['a@x'] }],
    },
    { connector: 'ldap', op: 'modrdn', dn: 'uid=a,dc=x', newRdn: 'uid=b' },
    { connector: 'ldap', op: 'delete', dn: 'uid=a,dc=x' },
    { connector: 'ldap', op: 'add', dn: 'cn=x', attributes: { objectGUID: [{ base64: 'AAE=' }] } },
    { connector: 'sql', op: 'upsert', key: { id: 7 }, values: { name: 'A', active: true } },
    { connector: 'sql', op: 'delete', key: { id: 7 } },
    { connector: 'scim', op: 'POST', path: '/Users', body: { userName: 'a' } },
    { connector: 'scim', op: 'PUT', path: '/Users/1', body: { userName: 'a' } },
    { connector: 'scim', op: 'PATCH', path: '/Groups/1', body: { Operations: [] } },
    { connector: 'scim', op: 'DELETE', path: '/Users/1' },
  ])('accepts export $connector $op', (payload) => {
    const r = parseCommand(cmd('export', payload));
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  it.each([
    [{ connector: 'ldap', op: 'rename', dn: 'x' }, /payload.op/],
    [{ connector: 'ldap', op: 'modify', dn: 'x', changes: [] }, /payload.changes: .*>=1/],
    [{ connector: 'sql', op: 'delete', key: {} }, /payload.key: key must name at least one/],
    [{ connector: 'scim', op: 'DELETE', path: 'https://evil/Users' }, /relative to the base URL/],
    [{ connector: 'scim', op: 'DELETE', path: '//evil/Users' }, /relative to the base URL/],
    [{ connector: 'scim', op: 'DELETE', path: '/Users/../../admin' }, /"\.\." segments/],
    [{ connector: 'ftp', op: 'put' }, /payload.connector/],
  ])('refuses export %j', (payload, message) => {
    expect(problemsOf(cmd('export', payload)).join('\n')).toMatch(message);
  });

  it('infers types from the schema', () => {
    const c = commandSchema.parse(
      cmd('export', { connector: 'ldap', op: 'modrdn', dn: 'a', newRdn: 'b' }),
    );
    if (c.kind === 'export' && c.payload.connector === 'ldap' && c.payload.op === 'modrdn') {
      expect(c.payload.deleteOldRdn).toBe(true);
    } else {
      throw new Error('narrowing failed');
    }
  });
});

describe('results', () => {
  it('validates data against the command kind', () => {
    const good = parseResult('search', {
      ok: true,
      data: { entries: [{ id: 'uid=a', attributes: { cn: ['A'] } }], cookie: null },
    });
    expect(good.ok).toBe(true);
    const bad = parseResult('search', { ok: true, data: { entries: [{}] } });
    expect(bad.ok ? [] : bad.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^data.entries.0.id:/),
        expect.stringMatching(/^data.cookie:/),
      ]),
    );
  });

  it('accepts every typed error and refuses unknown codes', () => {
    for (const code of [
      'auth_failure',
      'not_found',
      'timeout',
      'connector_error',
      'refused',
      'too_large',
      'unsupported',
    ] as const) {
      expect(parseResult('ping', failure(code, 'x', 49)).ok).toBe(true);
    }
    const r = parseResult('ping', { ok: false, error: { code: 'oops', message: 'x' } });
    expect(r.ok ? [] : r.problems.join()).toMatch(/error.code/);
    expect(failure('not_found', 'gone')).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'gone' },
    });
  });
});

describe('result size cap', () => {
  it('passes a result under the cap through unchanged', () => {
    const result = { ok: true as const, data: { latencyMs: 3 } };
    const e = encodeResult(result);
    expect(e.refused).toBe(false);
    expect(JSON.parse(e.body)).toEqual(result);
    expect(MAX_RESULT_BYTES).toBeGreaterThan(1024 * 1024);
  });

  it('refuses a result over the cap with a clear too_large error', () => {
    const entries = Array.from({ length: 200 }, (_, i) => ({
      id: `uid=${i}`,
      attributes: { cn: ['é'.repeat(10)] },
    }));
    const e = encodeResult({ ok: true, data: { entries, cookie: null } }, 2048);
    expect(e.refused).toBe(true);
    expect(e.bytes).toBeLessThan(2048);
    const body = JSON.parse(e.body);
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('too_large');
    expect(body.error.message).toMatch(/over the 2048-byte cap/);
    expect(parseResult('search', body).ok).toBe(true);
  });
});

describe('SSE', () => {
  const command = cmd('search', {
    filter: '(cn=line1\nline2)',
    attributes: ['cn'],
  }) as CommandInput;

  it('formats a command event with the command id', () => {
    const text = formatSseEvent(command);
    expect(text).toBe(`id: ${id}\nevent: command\ndata: ${JSON.stringify(command)}\n\n`);
    expect(formatSseComment('heartbeat')).toBe(': heartbeat\n\n');
    expect(formatSseHeartbeat(new Date(0))).toBe(': heartbeat 1970-01-01T00:00:00.000Z\n\n');
    expect(formatSseRetry(2500)).toBe('retry: 2500\n\n');
    expect(() => formatSse({ id: 'a\nb', data: '' })).toThrow();
  });

  it('round-trips a command through the parser', () => {
    const p = new SseParser();
    const [msg, ...rest] = p.push(formatSseEvent(command));
    expect(rest).toEqual([]);
    expect(msg?.type).toBe('event');
    if (msg?.type !== 'event') return;
    expect(msg.id).toBe(id);
    expect(p.lastEventId).toBe(id);
    const parsed = parseCommandEvent(msg);
    expect(parsed.ok && parsed.value.kind === 'search' && parsed.value.payload.filter).toBe(
      '(cn=line1\nline2)',
    );
  });

  it('gives the same messages however the stream is split', () => {
    const ids = [id, '5a1c2a4e-8b7d-4c3e-9a1b-2d3e4f5a6b7c'];
    const stream = Buffer.from(
      `\uFEFF${formatSseHeartbeat(new Date(0))}${formatSseRetry(1000)}` +
        formatSseEvent({ ...command, id: ids[0] as string }) +
        formatSse({ event: 'note', data: 'ünï\ncödé' }).replace(/\n/g, '\r\n') +
        formatSseEvent({ ...command, id: ids[1] as string }),
    );
    const whole = new SseParser().push(stream);
    expect(whole.map((m) => m.type)).toEqual(['comment', 'retry', 'event', 'event', 'event']);
    expect(whole[3]).toEqual({ type: 'event', id: ids[0], event: 'note', data: 'ünï\ncödé' });
    for (const size of [1, 2, 3, 7, 64]) {
      const p = new SseParser();
      const got: SseMessage[] = [];
      for (let i = 0; i < stream.length; i += size)
        got.push(...p.push(stream.subarray(i, i + size)));
      expect(got).toEqual(whole);
      expect(p.lastEventId).toBe(ids[1]);
    }
  });

  it('follows the spec on edge cases', () => {
    const p = new SseParser();
    // CR line ends, a CRLF split across chunks, a field without a colon, ignored fields.
    expect(p.push('data: a\r')).toEqual([]);
    expect(p.push('\ndata\r\r')).toEqual([
      { type: 'event', id: '', event: 'message', data: 'a\n' },
    ]);
    expect(p.push('event: x\n\n')).toEqual([]); // no data → nothing dispatched, type reset
    expect(p.push('retry: soon\nfoo: bar\nid: 1\0\ndata:no-space\n\n')).toEqual([
      { type: 'event', id: '', event: 'message', data: 'no-space' },
    ]);
    expect(p.push(':\n')).toEqual([{ type: 'comment', text: '' }]);
  });

  it('reports bad command events without throwing', () => {
    expect(parseCommandEvent({ event: 'command', data: '{' })).toEqual({
      ok: false,
      problems: ['(root): data is not valid JSON'],
    });
    expect(parseCommandEvent({ event: 'other', data: '{}' }).ok).toBe(false);
  });
});
