import { describe, expect, it } from 'vitest';
import { actorLabel, changedAttributes } from './audit.ts';

describe('changedAttributes', () => {
  it('names changed top-level and extension attributes, never values', () => {
    const ext = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    expect(
      changedAttributes(
        {
          userName: 'a',
          title: 'x',
          emails: [{ value: 'a@x' }],
          [ext]: { department: 'A', manager: { value: '1' } },
        },
        {
          userName: 'a',
          nickName: 'n',
          emails: [{ value: 'b@x' }],
          [ext]: { department: 'B', manager: { value: '1' } },
        },
      ),
    ).toEqual(['emails', 'nickName', 'title', `${ext}:department`]);
    expect(changedAttributes({ a: 1 }, { a: 1 })).toEqual([]);
    expect(changedAttributes({}, { [ext]: {} })).toEqual([ext]);
  });

  it('labels actors', () => {
    expect(actorLabel({ type: 'token', id: 't1' })).toBe('token:t1');
    expect(actorLabel({ type: 'operator' })).toBe('operator');
  });
});
