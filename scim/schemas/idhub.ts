import { attr, SCHEMA, type SchemaDef } from './types.ts';

const readOnly = { mutability: 'readOnly' } as const;

/**
 * idhub's own User extension: the organisation the user belongs to (writable: the value is an
 * Organization id of the tenant; stored in users.organization_id, not in the document) and
 * read-only summaries of the user's linked accounts and credentials (returned on request).
 */
export const idhubUserSchema: SchemaDef = {
  id: SCHEMA.idhubUser,
  name: 'IdhubUser',
  description: 'idhub User extension: organisation, linked accounts, credentials',
  attributes: [
    attr('organization', 'complex', {
      description:
        'The organisation the user belongs to (at most one). Set value to an Organization id; ' +
        'null unassigns; a PUT without it keeps the assignment.',
      subAttributes: [
        attr('value', 'string', { caseExact: true }),
        attr('$ref', 'reference', { ...readOnly, referenceTypes: ['Organization'] }),
        attr('display', 'string', readOnly),
        attr('path', 'string', {
          ...readOnly,
          description: 'Names of the organisations from the root, joined by "/"',
        }),
      ],
    }),
    attr('accounts', 'complex', {
      ...readOnly,
      multiValued: true,
      returned: 'request',
      description: "The user's accounts in other systems (linkage).",
      subAttributes: [
        attr('systemId', 'string', { ...readOnly, caseExact: true }),
        attr('externalKey', 'string', { ...readOnly, caseExact: true }),
        attr('dn', 'string', readOnly),
        attr('username', 'string', readOnly),
        attr('state', 'string', {
          ...readOnly,
          canonicalValues: ['active', 'disabled', 'missing'],
        }),
        attr('lastSeen', 'dateTime', readOnly),
      ],
    }),
    attr('credentials', 'complex', {
      ...readOnly,
      multiValued: true,
      returned: 'request',
      description: "A summary of the user's credentials.",
      subAttributes: [
        attr('type', 'string', {
          ...readOnly,
          canonicalValues: [
            'card',
            'temporary_card',
            'virtual_smart_card',
            'mobile_id',
            'soft_token',
          ],
        }),
        attr('serial', 'string', { ...readOnly, caseExact: true }),
        attr('state', 'string', { ...readOnly, canonicalValues: ['active', 'inactive', 'locked'] }),
      ],
    }),
  ],
};
