import { SCHEMA } from '../../scim/schemas/index.ts';
import type { MappingInput } from './schema.ts';

const ent = (name: string) => `${SCHEMA.enterprise}:${name}`;
const ORGANIZATION = `${SCHEMA.idhubUser}:organization`;

/** inetOrgPerson on OpenLDAP; entryUUID is an operational attribute: the search must ask for it. */
const openldap: MappingInput = {
  rules: [
    { target: 'userName', source: 'uid', required: true },
    { target: 'name.givenName', source: 'givenName' },
    { target: 'name.familyName', source: 'sn' },
    { target: 'displayName', source: 'cn' },
    { target: 'emails[type eq "work"].value', source: 'mail' },
    { target: 'phoneNumbers[type eq "work"].value', source: 'telephoneNumber' },
    { target: 'title', source: 'title' },
    { target: ent('employeeNumber'), source: 'employeeNumber' },
    { target: ent('department'), source: 'departmentNumber' },
    // A DN: the sync engine turns it into the manager's user id (sync/engine/managers.ts).
    { target: ent('manager.value'), source: 'manager' },
    { target: 'externalId', source: 'entryUUID' },
  ],
};

/** Active Directory user objects. */
const activeDirectory: MappingInput = {
  rules: [
    { target: 'userName', source: 'sAMAccountName', required: true },
    { target: 'name.givenName', source: 'givenName' },
    { target: 'name.familyName', source: 'sn' },
    { target: 'displayName', source: 'displayName' },
    { target: 'emails[type eq "work"].value', source: 'mail' },
    { target: 'phoneNumbers[type eq "work"].value', source: 'telephoneNumber' },
    { target: 'title', source: 'title' },
    { target: ent('department'), source: 'department' },
    { target: ent('employeeNumber'), source: 'employeeID' },
    { target: ent('manager.value'), source: 'manager' },
    {
      target: 'active',
      source: 'userAccountControl',
      transform: ['adUserAccountControlDisabled', 'not'],
    },
    { target: 'externalId', source: 'objectGUID', transform: 'base64ToUuid' },
    { target: ORGANIZATION, source: 'distinguishedName', transform: 'dnToOrganization' },
  ],
};

/** The mappings a new sync job starts from; administrators edit a copy. */
export const DEFAULT_MAPPINGS: Readonly<Record<'openldap' | 'activeDirectory', MappingInput>> = {
  openldap,
  activeDirectory,
};
