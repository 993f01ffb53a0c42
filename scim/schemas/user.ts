import { multiValuedSub } from './common.ts';
import { type AttributeDef, attr, SCHEMA, type SchemaDef } from './types.ts';

const name = attr('name', 'complex', {
  description: "The components of the user's real name.",
  subAttributes: [
    attr('formatted', 'string'),
    attr('familyName', 'string'),
    attr('givenName', 'string'),
    attr('middleName', 'string'),
    attr('honorificPrefix', 'string'),
    attr('honorificSuffix', 'string'),
  ],
});

const address = attr('addresses', 'complex', {
  multiValued: true,
  subAttributes: [
    attr('formatted', 'string'),
    attr('streetAddress', 'string'),
    attr('locality', 'string'),
    attr('region', 'string'),
    attr('postalCode', 'string'),
    attr('country', 'string'),
    attr('type', 'string', { canonicalValues: ['work', 'home', 'other'] }),
    attr('primary', 'boolean'),
  ],
});

const ref = (n: string, referenceTypes: string[]) =>
  attr(n, 'complex', {
    multiValued: true,
    subAttributes: [
      attr('value', 'string'),
      attr('$ref', 'reference', { referenceTypes }),
      attr('display', 'string'),
      attr('type', 'string'),
      attr('primary', 'boolean'),
    ],
  });

/**
 * An attribute the hub computes from its own tables: readOnly, sub-attributes included, and
 * returned when asked for (`attributes=roles`): computing it on every read cost the userName
 * lookup ~40% of its throughput in the bench (see scim/README.md).
 */
const computed = (a: AttributeDef, description: string): AttributeDef => ({
  ...a,
  description,
  mutability: 'readOnly',
  returned: 'request',
  subAttributes: a.subAttributes?.map((s) => ({ ...s, mutability: 'readOnly' })),
});

export const userSchema: SchemaDef = {
  id: SCHEMA.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('userName', 'string', { required: true, uniqueness: 'server' }),
    name,
    attr('displayName', 'string'),
    attr('nickName', 'string'),
    attr('profileUrl', 'reference', { referenceTypes: ['external'] }),
    attr('title', 'string'),
    attr('userType', 'string'),
    attr('preferredLanguage', 'string'),
    attr('locale', 'string'),
    attr('timezone', 'string'),
    attr('active', 'boolean'),
    attr('password', 'string', { mutability: 'writeOnly', returned: 'never' }),
    attr('emails', 'complex', { multiValued: true, subAttributes: multiValuedSub() }),
    attr('phoneNumbers', 'complex', {
      multiValued: true,
      subAttributes: multiValuedSub('string', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    }),
    attr('ims', 'complex', {
      multiValued: true,
      subAttributes: multiValuedSub('string', [
        'aim',
        'gtalk',
        'icq',
        'xmpp',
        'msn',
        'skype',
        'qq',
        'yahoo',
      ]),
    }),
    attr('photos', 'complex', {
      multiValued: true,
      subAttributes: multiValuedSub('reference', ['photo', 'thumbnail']),
    }),
    address,
    {
      ...ref('groups', ['User', 'Group']),
      description:
        'Groups the user belongs to, directly or through nested groups. Returned when asked for ' +
        '(attributes=groups): a list that can run to thousands is not built on every user read.',
      mutability: 'readOnly',
      returned: 'request',
      subAttributes: [
        attr('value', 'string', { mutability: 'readOnly' }),
        attr('$ref', 'reference', { mutability: 'readOnly', referenceTypes: ['User', 'Group'] }),
        attr('display', 'string', { mutability: 'readOnly' }),
        attr('type', 'string', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
      ],
    },
    ref('entitlements', []),
    computed(ref('roles', []), 'Roles granted to the user (idhub role assignments); read-only.'),
    computed(
      attr('x509Certificates', 'complex', {
        multiValued: true,
        subAttributes: multiValuedSub('binary', []),
      }),
      "The active certificates of the user's credentials (value: base64 DER when known, " +
        'display: subject DN); read-only.',
    ),
  ],
};
