import { attr, SCHEMA, type SchemaDef } from './types.ts';

/** idhub's Organization resource: one node of the tenant's organisation tree. */
export const organizationSchema: SchemaDef = {
  id: SCHEMA.organization,
  name: 'Organization',
  description: 'An organisation of the tenant (a tree: names are unique among siblings)',
  attributes: [
    attr('displayName', 'string', {
      required: true,
      uniqueness: 'server',
      description: 'The name, unique among the siblings (case-insensitively)',
    }),
    attr('parent', 'complex', {
      description: 'The parent organisation; absent for a root. Changing value moves the subtree.',
      subAttributes: [
        attr('value', 'string', { caseExact: true }),
        attr('$ref', 'reference', { mutability: 'readOnly', referenceTypes: ['Organization'] }),
        attr('display', 'string', { mutability: 'readOnly' }),
      ],
    }),
    attr('path', 'string', {
      mutability: 'readOnly',
      description: 'Names of the organisations from the root to this one, joined by "/"',
    }),
  ],
};
