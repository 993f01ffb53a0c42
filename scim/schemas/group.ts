import { attr, SCHEMA, type SchemaDef } from './types.ts';

export const groupSchema: SchemaDef = {
  id: SCHEMA.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    attr('displayName', 'string', { required: true, uniqueness: 'server' }),
    attr('members', 'complex', {
      multiValued: true,
      subAttributes: [
        attr('value', 'string', { mutability: 'immutable', caseExact: true }),
        attr('$ref', 'reference', { mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
        attr('display', 'string', { mutability: 'readOnly' }),
        attr('type', 'string', { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
      ],
    }),
  ],
};
