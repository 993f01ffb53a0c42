import { attr, SCHEMA, type SchemaDef } from './types.ts';

export const enterpriseUserSchema: SchemaDef = {
  id: SCHEMA.enterprise,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'string'),
    attr('costCenter', 'string'),
    attr('organization', 'string'),
    attr('division', 'string'),
    attr('department', 'string'),
    attr('manager', 'complex', {
      subAttributes: [
        attr('value', 'string'),
        attr('$ref', 'reference', { referenceTypes: ['User'] }),
        attr('displayName', 'string', { mutability: 'readOnly' }),
      ],
    }),
  ],
};
