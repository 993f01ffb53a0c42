/** The identity model's domain operations: what GraphQL, SCIM and directory sync call. */
export * from './accounts.ts';
export * from './audit.ts';
export * from './cascade.ts';
export * from './certificates.ts';
export * from './credentials.ts';
export * from './errors.ts';
export * from './executor.ts';
export * from './organizations.ts';
export * from './roles.ts';
