import { type AttributeDef, attr } from './types.ts';

/** Attributes every resource carries (RFC 7643 §3.1); they live in no schema's attribute list. */
export const commonAttributes: AttributeDef[] = [
  attr('id', 'string', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  attr('externalId', 'string', { caseExact: true }),
  attr('meta', 'complex', {
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', 'string', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', { mutability: 'readOnly' }),
      attr('location', 'reference', { mutability: 'readOnly', referenceTypes: ['uri'] }),
      attr('version', 'string', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

/** The sub-attributes of a standard multi-valued attribute (emails, phoneNumbers, …). */
export function multiValuedSub(
  valueType: AttributeDef['type'] = 'string',
  types: string[] = ['work', 'home', 'other'],
): AttributeDef[] {
  return [
    attr('value', valueType),
    attr('display', 'string'),
    attr('type', 'string', { canonicalValues: types }),
    attr('primary', 'boolean'),
  ];
}
