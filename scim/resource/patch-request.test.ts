import { describe, expect, it } from 'vitest';
import { SCHEMA } from '../schemas/index.ts';
import { MAX_PATCH_OPERATIONS, parsePatchRequest } from './patch-request.ts';
import { expectScimError } from './test-helpers.ts';

const body = (Operations: unknown, schemas: unknown = [SCHEMA.patchOp]) => ({
  schemas,
  Operations,
});

describe('parsePatchRequest', () => {
  it('accepts ops in any case and the key "operations"', () => {
    const ops = parsePatchRequest({
      schemas: [SCHEMA.patchOp],
      operations: [
        { op: 'Add', path: 'nickName', value: 'Babs' },
        { op: 'REPLACE', value: { active: false } },
        { op: 'Remove', path: 'emails[type eq "work"].value' },
      ],
    });
    expect(ops).toEqual([
      { op: 'add', path: { path: 'nickName' }, pathText: 'nickName', value: 'Babs' },
      { op: 'replace', value: { active: false } },
      {
        op: 'remove',
        path: {
          path: 'emails',
          filter: { kind: 'compare', path: 'type', op: 'eq', value: 'work' },
          subAttr: 'value',
        },
        pathText: 'emails[type eq "work"].value',
      },
    ]);
  });

  it('keeps null values (unassign) and remove values (Entra legacy member removal)', () => {
    const [replace, remove] = parsePatchRequest(
      body([
        { op: 'replace', path: 'title', value: null },
        { op: 'Remove', path: 'members', value: [{ value: 'id' }] },
      ]),
    );
    expect(replace?.value).toBeNull();
    expect(remove?.value).toEqual([{ value: 'id' }]);
  });

  it('refuses wrong or missing schemas', () => {
    const Operations = [{ op: 'add', path: 'x', value: 1 }];
    expectScimError(() => parsePatchRequest({ Operations }), 400, 'invalidSyntax');
    for (const schemas of [null, [], [SCHEMA.user], SCHEMA.patchOp, [1]]) {
      expectScimError(() => parsePatchRequest({ schemas, Operations }), 400, 'invalidSyntax');
    }
    expect(
      parsePatchRequest(body([{ op: 'remove', path: 'title' }], [SCHEMA.patchOp.toUpperCase()])),
    ).toHaveLength(1);
  });

  it('refuses missing, empty or non-array Operations and non-object bodies', () => {
    for (const ops of [undefined, [], {}, 'add', null]) {
      expectScimError(() => parsePatchRequest(body(ops)), 400, 'invalidSyntax');
    }
    expectScimError(() => parsePatchRequest([]), 400, 'invalidSyntax');
    expectScimError(() => parsePatchRequest(body(['add'])), 400, 'invalidSyntax');
  });

  it(`accepts ${MAX_PATCH_OPERATIONS} operations and refuses more with tooMany`, () => {
    const op = { op: 'replace', path: 'title', value: 'x' };
    expect(parsePatchRequest(body(Array(MAX_PATCH_OPERATIONS).fill(op)))).toHaveLength(
      MAX_PATCH_OPERATIONS,
    );
    expectScimError(() => parsePatchRequest(body(Array(5000).fill(op))), 400, 'tooMany');
  });

  it('refuses ops other than add/replace/remove', () => {
    for (const op of ['move', 'copy', 'test', 'delete', '', undefined, 1]) {
      expectScimError(
        () => parsePatchRequest(body([{ op, path: 'title', value: 'x' }])),
        400,
        'invalidSyntax',
      );
    }
  });

  it('refuses remove without a path (noTarget) and add/replace without a value', () => {
    expectScimError(() => parsePatchRequest(body([{ op: 'remove' }])), 400, 'noTarget');
    expectScimError(() => parsePatchRequest(body([{ op: 'remove', path: null }])), 400, 'noTarget');
    expectScimError(
      () => parsePatchRequest(body([{ op: 'add', path: 'title' }])),
      400,
      'invalidSyntax',
    );
    expectScimError(() => parsePatchRequest(body([{ op: 'replace' }])), 400, 'invalidSyntax');
  });

  it('refuses malformed paths with invalidPath', () => {
    for (const path of [
      '',
      'emails[type eq',
      'emails[type eq "work"',
      'a..b',
      '__proto__',
      'a b',
      7,
      'emails]',
    ]) {
      expectScimError(
        () => parsePatchRequest(body([{ op: 'add', path, value: 'x' }])),
        400,
        'invalidPath',
      );
    }
  });
});
