import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHarness } from '../harness.ts';
import {
  createGroup,
  createUser,
  expectError,
  filterQ,
  guard,
  patchOp,
  snapshot,
  URN,
  uniq,
} from './helpers.ts';

/**
 * INTEROP.md "Bad input": every request gets the right 4xx SCIM error and leaves the tenant's
 * rows (users, groups, group_members, outbox) exactly as they were.
 */
const h = guard(createHarness());

/** A tenant with two users and a group holding both, and a check that nothing changed. */
async function baseline() {
  const t = await h.tenant();
  const u = await createUser(t.c, uniq(), {
    name: { givenName: 'Ann', familyName: 'Lee' },
    emails: [{ value: 'ann@work.test', type: 'work', primary: true }],
    [URN.ent]: { department: 'Ops' },
  });
  const v = await createUser(t.c, uniq());
  const g = await createGroup(t.c, uniq('g'), [u, v]);
  const before = await snapshot(h, t.tenantId);
  return {
    ...t,
    u,
    v,
    g,
    /** Every write endpoint, for bodies that are bad wherever they are sent. */
    writes: [
      ['POST', '/Users'],
      ['PUT', `/Users/${u}`],
      ['PATCH', `/Users/${u}`],
      ['POST', '/Groups'],
      ['PUT', `/Groups/${g}`],
      ['PATCH', `/Groups/${g}`],
      ['POST', '/Users/.search'],
      ['POST', '/.search'],
    ] as const,
    unchanged: async () => expect(await snapshot(h, t.tenantId)).toEqual(before),
  };
}

type Base = Awaited<ReturnType<typeof baseline>>;

/** Sends each body to the user endpoints (POST/PUT with user bodies) and expects an error. */
async function userBodies(b: Base, bodies: unknown[], status: number, scimType: string) {
  for (const body of bodies) {
    const what = typeof body === 'string' ? body.slice(0, 80) : JSON.stringify(body).slice(0, 80);
    for (const [method, path] of [
      ['POST', '/Users'],
      ['PUT', `/Users/${b.u}`],
    ] as const) {
      const res = await b.c.call(method, path, body);
      expect(res.status, `${method} ${what}: ${res.text}`).toBe(status);
      expect(res.body.scimType, `${method} ${what}`).toBe(scimType);
    }
  }
}

/** Sends each PatchOp body to the user (or group) and expects an error. */
async function patches(b: Base, target: string, bodies: unknown[], status: number, type: string) {
  for (const body of bodies) {
    const res = await b.c.patch(target, body);
    expect(res.status, `${JSON.stringify(body).slice(0, 160)}: ${res.text}`).toBe(status);
    expect(res.body.scimType, JSON.stringify(body).slice(0, 160)).toBe(type);
  }
}

const userBody = (extra: Record<string, unknown>) => ({
  schemas: [URN.user],
  userName: uniq(),
  ...extra,
});

describe('bad input: JSON', () => {
  it('truncated or non-object JSON → 400 invalidSyntax on every write endpoint', async () => {
    const b = await baseline();
    const bodies = [
      `{"schemas":["${URN.user}"],"userName":"x"`,
      '{"schemas":[',
      '{',
      '',
      ' ',
      '[]',
      `[{"schemas":["${URN.user}"],"userName":"x"}]`,
      '"x"',
      '42',
      'null',
      'true',
      'not json',
      "{'userName':'x'}",
      '{"userName":"x",}',
      '{"userName":"x"}{"userName":"y"}',
      '{"userName":NaN}',
      '{"userName":"x\u0001"}',
      '{"userName":"\\x41"}',
    ];
    for (const body of bodies) {
      for (const [method, path] of b.writes) {
        const res = await b.c.call(method, path, body);
        expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`).toBe(400);
        expect(res.body.scimType, `${method} ${path} ${JSON.stringify(body)}`).toBe(
          'invalidSyntax',
        );
      }
    }
    await b.unchanged();
  });

  it('duplicate and case-variant keys → 400 invalidSyntax', async () => {
    const b = await baseline();
    const s = `"schemas":["${URN.user}"]`;
    await userBodies(
      b,
      [
        `{${s},"userName":"a","userName":"b"}`,
        `{${s},"userName":"a","USERNAME":"b"}`,
        `{${s},"userName":"a","name":{"givenName":"x","GivenName":"y"}}`,
        `{${s},"userName":"a","emails":[{"value":"a@x","Value":"b@x"}]}`,
        `{${s},"schemas":["${URN.user}"],"userName":"a"}`,
        `{${s},"userName":"a","${URN.ent}":{"department":"x"},"${URN.ent.toUpperCase()}":{}}`,
        `{${s},"userName":"a","${URN.ent}":{"department":"x","Department":"y"}}`,
      ],
      400,
      'invalidSyntax',
    );
    const p = `"schemas":["${URN.patch}"]`;
    await patches(
      b,
      `/Users/${b.u}`,
      [
        `{${p},"Operations":[],"operations":[{"op":"add","path":"title","value":"x"}]}`,
        `{${p},"Operations":[{"op":"add","OP":"remove","path":"title","value":"x"}]}`,
        `{${p},"Operations":[{"op":"add","path":"title","Path":"nickName","value":"x"}]}`,
        `{${p},"Operations":[{"op":"replace","value":{"title":"x","TITLE":"y"}}]}`,
      ],
      400,
      'invalidSyntax',
    );
    await b.unchanged();
  });

  it('a body over the limit → 413', async () => {
    const b = await baseline();
    const limit = h.config.scim.maxBodyBytes;
    const big = JSON.stringify(userBody({ title: 'x'.repeat(limit + 10) }));
    for (const [method, path] of b.writes) {
      expectError(await b.c.call(method, path, big), 413);
    }
    const ops = JSON.stringify(
      patchOp({ op: 'replace', path: 'title', value: '€'.repeat(Math.ceil(limit / 3) + 10) }),
    );
    expect(ops.length).toBeLessThan(limit);
    expectError(await b.c.patch(`/Users/${b.u}`, ops), 413);
    expectError(
      await b.c.post('/Users', JSON.stringify(userBody({})), {
        'Content-Length': String(limit + 1),
      }),
      413,
    );
    await b.unchanged();
  });

  it('deep nesting → 400 invalidSyntax (also absurdly deep, without a stack overflow)', async () => {
    const b = await baseline();
    const nest = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const arrays = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const bodies = [
      `{"schemas":["${URN.user}"],"userName":"deep","name":${nest(40)}}`,
      `{"schemas":["${URN.user}"],"userName":"deep","emails":${arrays(40)}}`,
      `{"schemas":["${URN.user}"],"userName":"deep","x":${arrays(200_000)}}`,
      `{"schemas":["${URN.patch}"],"Operations":[{"op":"add","value":${nest(50)}}]}`,
    ];
    for (const body of bodies) {
      for (const [method, path] of b.writes) {
        const res = await b.c.call(method, path, body);
        expect(res.status, `${method} ${path}: ${res.text}`).toBe(400);
        expect(res.body.scimType).toBe('invalidSyntax');
      }
    }
    await b.unchanged();
  });

  it('__proto__ / constructor / prototype keys → 400, and nothing is polluted', async () => {
    const b = await baseline();
    const s = `"schemas":["${URN.user}"]`;
    const bodies = [
      `{${s},"userName":"p1","__proto__":{"userName":"evil","polluted":true}}`,
      `{${s},"userName":"p2","constructor":{"prototype":{"polluted":true}}}`,
      `{${s},"userName":"p3","prototype":{"polluted":true}}`,
      `{${s},"userName":"p4","name":{"__proto__":{"polluted":true}}}`,
      `{${s},"userName":"p5","emails":[{"value":"a@x","__PROTO__":{"polluted":true}}]}`,
      `{${s},"userName":"p6","${URN.ent}":{"constructor":{"polluted":true}}}`,
      `{${s},"userName":"p7","name.__proto__":{"polluted":true}}`,
      `{${s},"userName":"p8","name.constructor":"x"}`,
      `{${s},"userName":"p9","${URN.ent}:prototype":"x"}`,
    ];
    await userBodies(b, bodies, 400, 'invalidSyntax');
    const group = `{"schemas":["${URN.group}"],"displayName":"p","members":[{"value":"${b.u}","__proto__":{}}]}`;
    expectError(await b.c.post('/Groups', group), 400, 'invalidSyntax');
    await patches(
      b,
      `/Users/${b.u}`,
      [
        `{"schemas":["${URN.patch}"],"Operations":[{"op":"add","value":{"__proto__":{"polluted":true}}}]}`,
        `{"schemas":["${URN.patch}"],"Operations":[{"op":"add","path":"title","value":{"constructor":1}}]}`,
        `{"schemas":["${URN.patch}"],"__proto__":[],"Operations":[{"op":"add","path":"title","value":"x"}]}`,
      ],
      400,
      'invalidSyntax',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await b.unchanged();
  });

  it('__proto__ / constructor in PATCH paths and no-path keys → 400 invalidPath', async () => {
    const b = await baseline();
    const paths = [
      '__proto__',
      '__proto__.polluted',
      'constructor',
      'constructor.prototype',
      'name.__proto__',
      'name.constructor',
      'prototype',
      `${URN.ent}:__proto__`,
      `${URN.ent}:constructor`,
      'emails[type eq "work"].__proto__',
    ];
    await patches(
      b,
      `/Users/${b.u}`,
      paths.map((path) => patchOp({ op: 'add', path, value: { polluted: true } })),
      400,
      'invalidPath',
    );
    await patches(
      b,
      `/Users/${b.u}`,
      paths.map((path) => patchOp({ op: 'remove', path })),
      400,
      'invalidPath',
    );
    await patches(
      b,
      `/Users/${b.u}`,
      ['name.__proto__', 'name.constructor', `${URN.ent}:prototype`].map((key) =>
        patchOp({ op: 'replace', value: { [key]: 'x' } }),
      ),
      400,
      'invalidPath',
    );
    // a bare forbidden key is refused by the JSON reader already
    await patches(
      b,
      `/Users/${b.u}`,
      [patchOp({ op: 'replace', value: { constructor: 'x' } })],
      400,
      'invalidSyntax',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await b.unchanged();
  });
});

describe('bad input: values', () => {
  it('empty, blank, over-long or control-character userName / displayName → 400 invalidValue', async () => {
    const b = await baseline();
    const names = [
      '',
      '   ',
      'x'.repeat(257),
      '😀'.repeat(257),
      'a\u0000b',
      'a\nb',
      'a\tb',
      'a\u007fb',
      'a\u0085b',
      null,
    ];
    await userBodies(
      b,
      names.map((userName) => ({ schemas: [URN.user], userName })),
      400,
      'invalidValue',
    );
    await userBodies(
      b,
      [{ schemas: [URN.user], name: { givenName: 'no userName' } }],
      400,
      'invalidValue',
    );
    for (const userName of names.filter((n) => n !== null && n !== '')) {
      const res = await b.c.patch(
        `/Users/${b.u}`,
        patchOp({ op: 'replace', path: 'userName', value: userName }),
      );
      expectError(res, 400, 'invalidValue');
      const noPath = await b.c.patch(
        `/Users/${b.u}`,
        patchOp({ op: 'replace', value: { userName } }),
      );
      expectError(noPath, 400, 'invalidValue');
    }
    for (const value of ['', null]) {
      expectError(
        await b.c.patch(`/Users/${b.u}`, patchOp({ op: 'replace', path: 'userName', value })),
        400,
        'invalidValue',
      );
    }
    expectError(
      await b.c.patch(`/Users/${b.u}`, patchOp({ op: 'remove', path: 'userName' })),
      400,
      'mutability',
    );
    for (const displayName of names) {
      expectError(
        await b.c.post('/Groups', { schemas: [URN.group], displayName }),
        400,
        'invalidValue',
      );
      expectError(
        await b.c.put(`/Groups/${b.g}`, { schemas: [URN.group], displayName }),
        400,
        'invalidValue',
      );
    }
    await b.unchanged();
  });

  it('type confusion (emails:"x", name:"x", members:{}, …) → 400 invalidValue', async () => {
    const b = await baseline();
    await userBodies(
      b,
      [
        userBody({ emails: 'x' }),
        userBody({ emails: {} }),
        userBody({ emails: ['x'] }),
        userBody({ emails: [{ value: { a: 1 } }] }),
        userBody({ emails: [{ value: 'a@x', primary: 'maybe' }] }),
        userBody({ name: 'x' }),
        userBody({ name: ['x'] }),
        userBody({ name: { givenName: { first: 'x' } } }),
        userBody({ active: {} }),
        userBody({ active: 'yes' }),
        userBody({ userName: ['a'] }),
        userBody({ userName: { value: 'a' } }),
        userBody({ [URN.ent]: 'x' }),
        userBody({ [URN.ent]: { manager: ['a', 'b'] } }),
        userBody({ [URN.ent]: { department: ['x'] } }),
      ],
      400,
      'invalidValue',
    );
    for (const members of [{}, 'x', [{}], ['x'], [{ value: 1 }], [{ value: '' }]]) {
      const body = { schemas: [URN.group], displayName: uniq('g'), members };
      expectError(await b.c.post('/Groups', body), 400, 'invalidValue');
      expectError(await b.c.put(`/Groups/${b.g}`, body), 400, 'invalidValue');
    }
    await patches(
      b,
      `/Users/${b.u}`,
      [
        patchOp({ op: 'add', path: 'emails', value: 'x' }),
        patchOp({ op: 'replace', path: 'name', value: 'x' }),
        patchOp({ op: 'replace', path: 'active', value: 'nope' }),
        patchOp({ op: 'replace', value: { emails: 'x' } }),
        patchOp({ op: 'replace', value: 'x' }),
        patchOp({ op: 'add', value: ['x'] }),
      ],
      400,
      'invalidValue',
    );
    await patches(
      b,
      `/Groups/${b.g}`,
      [
        patchOp({ op: 'add', path: 'members', value: 'x' }),
        patchOp({ op: 'add', path: 'members', value: [{}] }),
        patchOp({ op: 'replace', path: 'members', value: ['x'] }),
      ],
      400,
      'invalidValue',
    );
    await userBodies(
      b,
      [{ schemas: `${URN.user}`, userName: 'x' }, { userName: 'x' }],
      400,
      'invalidSyntax',
    );
    await b.unchanged();
  });

  it('NUL or unpaired surrogates in strings → 400 invalidValue (PostgreSQL cannot store them)', async () => {
    const b = await baseline();
    for (const bad of ['a\u0000b', '\u0000', 'x\ud800', '\udc00y', '\ud800\ud800']) {
      await userBodies(
        b,
        [
          userBody({ title: bad }),
          userBody({ externalId: bad }),
          userBody({ name: { givenName: bad } }),
          userBody({ [URN.ent]: { department: bad } }),
          userBody({ [`x${bad}`]: 'unknown key' }),
        ],
        400,
        'invalidValue',
      );
      await patches(
        b,
        `/Users/${b.u}`,
        [
          patchOp({ op: 'add', path: 'title', value: bad }),
          patchOp({ op: 'replace', value: { nickName: bad } }),
          patchOp({ op: 'add', path: 'emails[type eq "home"].value', value: bad }),
        ],
        400,
        'invalidValue',
      );
      expectError(
        await b.c.post('/Groups', { schemas: [URN.group], displayName: 'g', externalId: bad }),
        400,
        'invalidValue',
      );
      expectError(
        await b.c.patch(
          `/Groups/${b.g}`,
          patchOp({ op: 'add', path: 'members', value: [{ value: b.u, display: bad }] }),
        ),
        400,
        'invalidValue',
      );
    }
    await b.unchanged();
    // a well-formed pair (an emoji written as two escapes) is fine
    const ok = await b.c.post(
      '/Users',
      `{"schemas":["${URN.user}"],"userName":"pair\\ud83d\\ude00"}`,
    );
    expect(ok.status).toBe(201);
    expect(ok.body.userName).toBe('pair😀');
  });

  it('an externalId too long to index → 400 invalidValue', async () => {
    const b = await baseline();
    const long = randomUUID().repeat(60);
    await userBodies(b, [userBody({ externalId: long })], 400, 'invalidValue');
    await patches(
      b,
      `/Users/${b.u}`,
      [
        patchOp({ op: 'add', path: 'externalId', value: long }),
        patchOp({ op: 'replace', value: { externalId: long } }),
      ],
      400,
      'invalidValue',
    );
    const group = { schemas: [URN.group], displayName: uniq('g'), externalId: long };
    expectError(await b.c.post('/Groups', group), 400, 'invalidValue');
    expectError(await b.c.put(`/Groups/${b.g}`, group), 400, 'invalidValue');
    await b.unchanged();
  });

  it('two primary emails → 400 invalidValue', async () => {
    const b = await baseline();
    const two = [
      { value: 'a@x.test', type: 'work', primary: true },
      { value: 'b@x.test', type: 'home', primary: 'True' },
    ];
    await userBodies(b, [userBody({ emails: two })], 400, 'invalidValue');
    await patches(
      b,
      `/Users/${b.u}`,
      [
        patchOp({ op: 'add', path: 'emails', value: two }),
        patchOp({ op: 'replace', path: 'emails', value: two }),
        patchOp({ op: 'replace', value: { emails: two } }),
      ],
      400,
      'invalidValue',
    );
    await b.unchanged();
  });

  it('member ids unknown, malformed or from another tenant → 400, never stored', async () => {
    const b = await baseline();
    const other = await h.tenant();
    const foreignUser = await createUser(other.c, uniq());
    const foreignGroup = await createGroup(other.c, uniq('g'));
    for (const bad of [randomUUID(), foreignUser, foreignGroup, 'not-a-uuid', `${b.u}x`]) {
      const list = [{ value: b.v }, { value: bad }];
      expectError(
        await b.c.post('/Groups', { schemas: [URN.group], displayName: uniq('g'), members: list }),
        400,
      );
      expectError(
        await b.c.put(`/Groups/${b.g}`, { schemas: [URN.group], displayName: 'x', members: list }),
        400,
      );
      for (const op of ['add', 'replace']) {
        expectError(
          await b.c.patch(`/Groups/${b.g}`, patchOp({ op, path: 'members', value: list })),
          400,
        );
        expectError(
          await b.c.patch(`/Groups/${b.g}`, patchOp({ op, value: { members: list } })),
          400,
        );
      }
    }
    // a group cannot contain itself
    expectError(
      await b.c.patch(
        `/Groups/${b.g}`,
        patchOp({ op: 'add', path: 'members', value: [{ value: b.g }] }),
      ),
      400,
    );
    const [stored] = await h.db.sql<{ n: number }[]>`select count(*)::int as n from group_members
      where member_id in (${foreignUser}, ${foreignGroup}) or group_id = ${foreignGroup}`;
    expect(stored?.n).toBe(0);
    await b.unchanged();
  });
});

describe('bad input: PatchOp', () => {
  it('wrong schemas, missing / empty Operations, thousands of operations', async () => {
    const b = await baseline();
    const op = { op: 'replace', path: 'title', value: 'x' };
    for (const target of [`/Users/${b.u}`, `/Groups/${b.g}`]) {
      await patches(
        b,
        target,
        [
          { schemas: [URN.user], Operations: [op] },
          { schemas: [], Operations: [op] },
          { schemas: URN.patch, Operations: [op] },
          { Operations: [op] },
          { schemas: [URN.patch] },
          { schemas: [URN.patch], Operations: [] },
          { schemas: [URN.patch], Operations: {} },
          { schemas: [URN.patch], Operations: op },
          { schemas: [URN.patch], Operations: [null] },
          { schemas: [URN.patch], Operations: ['replace'] },
        ],
        400,
        'invalidSyntax',
      );
      const many = Array.from({ length: 5000 }, (_, i) => ({
        op: 'replace',
        path: 'displayName',
        value: `n${i}`,
      }));
      await patches(b, target, [patchOp(...many)], 400, 'tooMany');
    }
    await b.unchanged();
  });

  it('ops other than add / replace / remove → 400 invalidSyntax', async () => {
    const b = await baseline();
    const bodies = ['move', 'copy', 'test', 'delete', 'update', '', 'add ', null, 1, undefined].map(
      (op) => patchOp({ op, path: 'title', value: 'x' }),
    );
    await patches(b, `/Users/${b.u}`, bodies, 400, 'invalidSyntax');
    await patches(b, `/Groups/${b.g}`, bodies, 400, 'invalidSyntax');
    // add / replace need a value
    await patches(
      b,
      `/Users/${b.u}`,
      [patchOp({ op: 'add', path: 'title' }), patchOp({ op: 'replace' })],
      400,
      'invalidSyntax',
    );
    await b.unchanged();
  });

  it('remove without a path → 400 noTarget', async () => {
    const b = await baseline();
    await patches(
      b,
      `/Users/${b.u}`,
      [
        patchOp({ op: 'remove' }),
        patchOp({ op: 'Remove', value: { title: 'x' } }),
        patchOp({ op: 'remove', path: null }),
      ],
      400,
      'noTarget',
    );
    await patches(
      b,
      `/Groups/${b.g}`,
      [patchOp({ op: 'remove', value: { members: [{ value: b.u }] } })],
      400,
      'noTarget',
    );
    // a filtered remove that matches nothing is noTarget too (RFC 7644 §3.5.2.2)
    await patches(
      b,
      `/Users/${b.u}`,
      [patchOp({ op: 'remove', path: 'emails[type eq "home"]' })],
      400,
      'noTarget',
    );
    await b.unchanged();
  });

  it('malformed or unknown paths → 400 invalidPath', async () => {
    const b = await baseline();
    const paths = [
      '',
      ' ',
      'emails[type eq "work"',
      'emails[type eq "work"]]',
      'emails[]',
      'emails[type]',
      'emails[type eq]',
      'emails[type xx "work"].value',
      'emails[type eq "work"].value.extra',
      'emails[type eq "work"].nosuch',
      'name..givenName',
      '.name',
      'name.',
      'name.givenName.x',
      'nosuch',
      'name.nosuch',
      'urn:nope:attr',
      `${URN.ent}:nosuch`,
      `${URN.ent}`,
      'userName eq "x"',
      'emails.value',
      'title[value eq "x"]',
      '1abc',
      'a b',
    ];
    const ops = (op: string) =>
      paths.map((path) => patchOp({ op, path, value: op === 'remove' ? undefined : 'x' }));
    for (const op of ['add', 'replace', 'remove']) {
      await patches(b, `/Users/${b.u}`, ops(op), 400, 'invalidPath');
    }
    await patches(
      b,
      `/Users/${b.u}`,
      [
        patchOp({ op: 'add', path: 42, value: 'x' }),
        patchOp({ op: 'add', path: ['title'], value: 'x' }),
      ],
      400,
      'invalidPath',
    );
    await patches(
      b,
      `/Groups/${b.g}`,
      ['members[value eq', 'members[', 'nosuch', 'members..value'].map((path) =>
        patchOp({ op: 'remove', path }),
      ),
      400,
      'invalidPath',
    );
    await b.unchanged();
  });

  it('readOnly targets → 400 mutability', async () => {
    const b = await baseline();
    const paths = ['id', 'meta', 'meta.created', 'meta.lastModified', 'meta.version', 'groups'];
    const body = (op: string, path: string) =>
      patchOp({ op, path, value: op === 'remove' ? undefined : 'x' });
    for (const op of ['add', 'replace', 'remove']) {
      await patches(
        b,
        `/Users/${b.u}`,
        paths.map((p) => body(op, p)),
        400,
        'mutability',
      );
    }
    await patches(
      b,
      `/Users/${b.u}`,
      [
        patchOp({ op: 'replace', value: { id: randomUUID() } }),
        patchOp({ op: 'replace', value: { meta: { created: '2001-01-01T00:00:00Z' } } }),
        patchOp({ op: 'add', value: { groups: [{ value: b.g }] } }),
        patchOp({ op: 'replace', path: `${URN.ent}:manager.displayName`, value: 'Boss' }),
      ],
      400,
      'mutability',
    );
    await patches(
      b,
      `/Groups/${b.g}`,
      [
        body('replace', 'id'),
        body('replace', 'meta.created'),
        patchOp({ op: 'replace', path: 'members.value', value: b.u }),
        patchOp({ op: 'replace', path: `members[value eq "${b.u}"].value`, value: b.v }),
        patchOp({ op: 'replace', path: `members[value eq "${b.u}"]`, value: { value: b.v } }),
        patchOp({ op: 'remove', path: 'displayName' }),
      ],
      400,
      'mutability',
    );
    await b.unchanged();
  });

  it('several ops with a failing last one apply nothing (users and groups)', async () => {
    const b = await baseline();
    const w = await createUser(b.c, uniq());
    const before = await snapshot(h, b.tenantId);
    const res = await b.c.patch(
      `/Groups/${b.g}`,
      patchOp(
        { op: 'replace', path: 'displayName', value: 'Renamed' },
        { op: 'remove', path: `members[value eq "${b.u}"]` },
        { op: 'add', path: 'members', value: [{ value: w }] },
        { op: 'add', path: 'members', value: [{ value: randomUUID() }] },
      ),
    );
    expectError(res, 400);
    expect(await snapshot(h, b.tenantId)).toEqual(before);
    const user = await b.c.patch(
      `/Users/${b.u}`,
      patchOp(
        { op: 'replace', path: 'title', value: 'New' },
        { op: 'add', path: 'emails[type eq "home"].value', value: 'h@x.test' },
        { op: 'replace', path: 'userName', value: '' },
      ),
    );
    expectError(user, 400, 'invalidValue');
    expect(await snapshot(h, b.tenantId)).toEqual(before);
  });
});

describe('bad input: HTTP', () => {
  it('unknown content type → 415', async () => {
    const b = await baseline();
    const body = JSON.stringify(userBody({}));
    for (const type of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/scim+xml',
      'text/json',
    ]) {
      for (const [method, path] of b.writes) {
        expectError(await b.c.call(method, path, body, { 'Content-Type': type }), 415);
      }
    }
    await b.unchanged();
  });

  it('unsupported method → 405 with Allow', async () => {
    const b = await baseline();
    const cases: [string, string, string][] = [
      ['PATCH', '/Users', 'GET, POST'],
      ['PUT', '/Users', 'GET, POST'],
      ['DELETE', '/Users', 'GET, POST'],
      ['DELETE', '/Groups', 'GET, POST'],
      ['POST', `/Users/${b.u}`, 'GET, PUT, PATCH, DELETE'],
      ['POST', `/Groups/${b.g}`, 'GET, PUT, PATCH, DELETE'],
      ['GET', '/Users/.search', 'POST'],
      ['DELETE', '/Groups/.search', 'POST'],
      ['PATCH', '/Users/.search', 'POST'],
      ['GET', '/.search', 'POST'],
      ['DELETE', '/ServiceProviderConfig', 'GET'],
      ['POST', '/Schemas', 'GET'],
      ['PUT', '/ResourceTypes/User', 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await b.c.call(method, path, method === 'GET' ? undefined : userBody({}));
      expectError(res, 405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
    await b.unchanged();
  });

  it('stale If-Match → 412 on PUT, PATCH and DELETE', async () => {
    const b = await baseline();
    const user = (await b.c.get(`/Users/${b.u}`)).body;
    const group = (await b.c.get(`/Groups/${b.g}`)).body;
    expect(user.meta.version).toBe('W/"1"');
    for (const tag of ['W/"0"', '"2"', 'W/"99", W/"7"', 'garbage']) {
      const hd = { 'If-Match': tag };
      expectError(await b.c.put(`/Users/${b.u}`, { ...user, title: 'x' }, hd), 412);
      expectError(
        await b.c.patch(`/Users/${b.u}`, patchOp({ op: 'add', path: 'title', value: 'x' }), hd),
        412,
      );
      expectError(await b.c.delete(`/Users/${b.u}`, hd), 412);
      expectError(await b.c.put(`/Groups/${b.g}`, { ...group, displayName: 'x' }, hd), 412);
      expectError(
        await b.c.patch(`/Groups/${b.g}`, patchOp({ op: 'remove', path: 'members' }), hd),
        412,
      );
      expectError(await b.c.delete(`/Groups/${b.g}`, hd), 412);
    }
    await b.unchanged();
    // the current tag (weak or strong) passes
    const ok = await b.c.patch(`/Users/${b.u}`, patchOp({ op: 'add', path: 'title', value: 'x' }), {
      'If-Match': '"1"',
    });
    expect(ok.status).toBe(204);
  });
});

describe('bad input: filters', () => {
  it('filters over the length and depth caps → 400 invalidFilter', async () => {
    const b = await baseline();
    const long = `userName eq "${'a'.repeat(5000)}"`;
    const deep = `${'('.repeat(40)}userName eq "a"${')'.repeat(40)}`;
    const nots = `${'not ('.repeat(40)}userName eq "a"${')'.repeat(40)}`;
    const ors = Array.from({ length: 400 }, (_, i) => `userName eq "user${i}@x.test"`).join(' or ');
    for (const f of [long, deep, nots, ors]) {
      expectError(await b.c.get(`/Users?${filterQ(f)}`), 400, 'invalidFilter');
      expectError(await b.c.get(`/Groups?${filterQ(f)}`), 400, 'invalidFilter');
      expectError(
        await b.c.post('/Users/.search', { schemas: [URN.search], filter: f }),
        400,
        'invalidFilter',
      );
    }
    // just under the caps is fine
    const okDeep = `${'('.repeat(20)}userName eq "a"${')'.repeat(20)}`;
    expect((await b.c.get(`/Users?${filterQ(okDeep)}`)).status).toBe(200);
    await b.unchanged();
  });

  it('SQL / LIKE metacharacters in filter values match literally', async () => {
    const t = await h.tenant();
    const names = {
      pct: '100%@x.test',
      pctDecoy: '100x@x.test',
      under: 'a_b@x.test',
      underDecoy: 'axb@x.test',
      back: 'back\\slash@x.test',
      backDecoy: 'backslash@x.test',
      quote: "o'brien@x.test",
      quoteDecoy: 'obrien@x.test',
    };
    const id: Record<string, string> = {};
    for (const [k, userName] of Object.entries(names)) {
      id[k] = await createUser(t.c, userName, { displayName: userName, externalId: userName });
    }
    const before = await snapshot(h, t.tenantId);
    const cases: [string, string[]][] = [
      ['userName co "%"', ['pct']],
      ['userName sw "100%"', ['pct']],
      ['userName ew "%@x.test"', ['pct']],
      ['userName eq "100%@x.test"', ['pct']],
      ['userName co "_"', ['under']],
      ['userName sw "a_"', ['under']],
      ['userName co "\\\\"', ['back']],
      ['userName eq "back\\\\slash@x.test"', ['back']],
      ['userName sw "back\\\\"', ['back']],
      ['userName co "\'"', ['quote']],
      ['userName eq "o\'brien@x.test"', ['quote']],
      ["userName eq \"x' or '1'='1\"", []],
      ['userName co "%_"', []],
      ['userName co "\\\\%"', []],
      ['displayName co "%"', ['pct']],
      ['displayName sw "a_"', ['under']],
      ['displayName co "\\\\"', ['back']],
      ['displayName eq "o\'brien@x.test"', ['quote']],
      ['externalId co "_"', ['under']],
      ['externalId co "\\\\"', ['back']],
      ['externalId ew "%@x.test"', ['pct']],
      ['userName co "; drop table users; --"', []],
    ];
    for (const [f, want] of cases) {
      const res = await t.c.get(`/Users?${filterQ(f)}`);
      expect(res.status, `${f}: ${res.text}`).toBe(200);
      const got = (res.body.Resources ?? []).map((r: { id: string }) => r.id).sort();
      expect(got, f).toEqual(want.map((k) => id[k]).sort());
      expect(res.body.totalResults, f).toBe(want.length);
    }
    expect(await snapshot(h, t.tenantId)).toEqual(before);
  });

  it('NUL in a filter string, dates outside 0001–9999 → 400 invalidFilter', async () => {
    const b = await baseline();
    for (const f of [
      'userName eq "\\u0000"',
      'displayName co "a\\u0000"',
      `${URN.ent}:department eq "\\u0000"`,
      'userName eq "\u0000"',
      'meta.created gt "0000-01-01T00:00:00Z"',
      'meta.lastModified le "0001-01-01T00:30:00+01:00"',
      'meta.lastModified gt "9999-12-31T23:00:00-05:00"',
      'meta.lastModified gt "10000-01-01T00:00:00Z"',
      'meta.lastModified gt "2024-02-30T00:00:00Z"',
      'meta.lastModified gt "yesterday"',
    ]) {
      expectError(await b.c.get(`/Users?${filterQ(f)}`), 400, 'invalidFilter');
      expectError(
        await b.c.post('/Users/.search', { schemas: [URN.search], filter: f }),
        400,
        f.includes('\u0000"') && !f.includes('\\u0000') ? 'invalidValue' : 'invalidFilter',
      );
    }
    const edge = await b.c.get(`/Users?${filterQ('meta.created gt "0001-01-01T00:00:00Z"')}`);
    expect(edge.body.totalResults).toBe(2);
    await b.unchanged();
  });

  it('absurd startIndex and tampered cursors → empty page or 400, never a 500', async () => {
    const b = await baseline();
    for (const start of ['99999999999999999999', '9223372036854775807', '1e300']) {
      const res = await b.c.get(`/Users?startIndex=${start}&count=5`);
      expect(res.status).toBe(200);
      expect(res.body.totalResults).toBe(2);
      expect(res.body.Resources ?? []).toEqual([]);
    }
    const root = await b.c.post('/.search', { schemas: [URN.search], startIndex: 1e300 });
    expect(root.status).toBe(200);
    expect(root.body.totalResults).toBe(3);
    const first = await b.c.get('/Users?cursor&count=1');
    const cursor = first.body.nextCursor as string;
    expect(typeof cursor).toBe('string');
    const state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    for (const tampered of [
      { ...state, after: undefined, offset: 1e20 },
      { ...state, after: undefined, offset: -1 },
      { ...state, after: undefined, offset: 1.5 },
      { ...state, after: { ...state.after, at: '0000-01-01T00:00:00Z' } },
      { ...state, after: { ...state.after, id: 'x' } },
      { ...state, q: 'other' },
    ]) {
      const enc = Buffer.from(JSON.stringify(tampered)).toString('base64url');
      expectError(await b.c.get(`/Users?cursor=${enc}&count=1`), 400, 'invalidCursor');
    }
    await b.unchanged();
  });

  it('password in a filter → 403 sensitive', async () => {
    const b = await baseline();
    for (const f of [
      'password eq "secret"',
      'password pr',
      'PASSWORD co "a"',
      'not (password eq "x")',
      'userName eq "a" or password eq "x"',
      `${URN.user}:password eq "x"`,
    ]) {
      expectError(await b.c.get(`/Users?${filterQ(f)}`), 403, 'sensitive');
      expectError(
        await b.c.post('/Users/.search', { schemas: [URN.search], filter: f }),
        403,
        'sensitive',
      );
    }
    await b.unchanged();
  });

  it('unknown filter attribute → 400 invalidFilter, never all rows', async () => {
    const b = await baseline();
    for (const f of ['nosuch eq "x"', 'nosuch pr', 'not (nosuch pr)', 'userName pr or nosuch pr']) {
      for (const p of ['/Users', '/Groups']) {
        const res = await b.c.get(`${p}?${filterQ(f)}`);
        expectError(res, 400, 'invalidFilter');
        expect(res.body.Resources).toBeUndefined();
      }
      expectError(
        await b.c.post('/.search', { schemas: [URN.search], filter: f }),
        400,
        'invalidFilter',
      );
    }
    // groups have no userName; users have no members
    expectError(await b.c.get(`/Groups?${filterQ('userName eq "x"')}`), 400, 'invalidFilter');
    await b.unchanged();
  });
});
