export * from './agents.ts';
export * from './identity.ts';
export * from './linkage.ts';
export * from './organizations.ts';
export * from './sync.ts';
export * from './tenants.ts';
