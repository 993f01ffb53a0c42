import { describe, expect, it } from 'vitest';
import { ScimClientError } from '../../../scim/client/index.ts';
import { toScimError } from './connector.ts';
import { flattenResource } from './flatten.ts';

describe('flattenResource', () => {
  it('keeps strings, JSON-encodes everything else, one value per array element', () => {
    const entry = flattenResource({
      id: 'u1',
      userName: 'alice',
      active: true,
      name: { givenName: 'Alice', familyName: 'E' },
      emails: [{ value: 'a@x', primary: true }, 'plain'],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '7' },
      nickName: null,
      phoneNumbers: [],
    });
    expect(entry).toEqual({
      id: 'u1',
      attributes: {
        id: ['u1'],
        userName: ['alice'],
        active: ['true'],
        name: ['{"givenName":"Alice","familyName":"E"}'],
        emails: ['{"value":"a@x","primary":true}', 'plain'],
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': ['{"employeeNumber":"7"}'],
      },
    });
  });
});

describe('toScimError', () => {
  const status = (s: number, scimType?: string) =>
    toScimError(
      new ScimClientError({
        reason: 'status',
        status: s,
        detail: 'd',
        ...(scimType ? { scimType } : {}),
      }),
    );

  it('maps statuses and client failures to protocol codes', () => {
    expect(status(401).code).toBe('auth_failure');
    expect(status(403).code).toBe('auth_failure');
    expect(status(404)).toMatchObject({ code: 'not_found', remoteCode: 404 });
    expect(status(409, 'uniqueness')).toMatchObject({
      code: 'connector_error',
      remoteCode: 409,
      message: 'd (uniqueness)',
    });
    expect(status(503).remoteCode).toBe(503);
    const reason = (r: 'timeout' | 'aborted' | 'too_large' | 'refused' | 'network') =>
      toScimError(new ScimClientError({ reason: r, detail: 'x' })).code;
    expect(reason('timeout')).toBe('timeout');
    expect(reason('aborted')).toBe('timeout');
    expect(reason('too_large')).toBe('too_large');
    expect(reason('refused')).toBe('refused');
    expect(reason('network')).toBe('connector_error');
  });
});
