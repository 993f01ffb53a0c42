import { describe, expect, it } from 'vitest';
import { scimOperation } from './metrics.ts';

describe('scimOperation', () => {
  it.each([
    ['POST', '/scim/v2/users', 'User', 'create'],
    ['GET', '/scim/v2/users', 'User', 'list'],
    ['POST', '/scim/v2/users/.search', 'User', 'search'],
    ['GET', '/scim/v2/groups/:id', 'Group', 'get'],
    ['PUT', '/scim/v2/groups/:id', 'Group', 'replace'],
    ['PATCH', '/scim/v2/users/:id', 'User', 'patch'],
    ['DELETE', '/scim/v2/users/:id', 'User', 'delete'],
    ['POST', '/scim/v2/.search', 'all', 'search'],
    ['POST', '/scim/v2/bulk', 'Bulk', 'bulk'],
    ['GET', '/scim/v2/organizations/:id', 'Organization', 'get'],
  ])('%s %s → %s %s', (method, route, resourceType, operation) => {
    expect(scimOperation(method, route)).toEqual({ resourceType, operation });
  });

  it.each([
    ['GET', '/scim/v2/schemas/:id'],
    ['GET', '/scim/v2/serviceproviderconfig'],
    ['GET', '/scim/v2/*'],
    ['GET', '/metrics'],
    ['GET', '(unmatched)'],
  ])('%s %s is no SCIM operation', (method, route) => {
    expect(scimOperation(method, route)).toBeUndefined();
  });
});
