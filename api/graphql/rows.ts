import type { ScimDoc, TokenScope } from '../../db/schema/index.ts';
import type {
  Account,
  Certificate,
  Credential,
  Organization,
  Role,
  RoleAssignment,
} from '../identity/index.ts';

/** Row shapes the GraphQL types resolve from; `kind` lets member unions tell them apart. */
export interface UserRow {
  kind: 'User';
  id: string;
  tenantId: string;
  userName: string;
  displayName: string | null;
  externalId: string | null;
  active: boolean;
  doc: ScimDoc;
  version: number;
  organizationId: string | null;
  source: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupRow {
  kind: 'Group';
  id: string;
  tenantId: string;
  displayName: string;
  externalId: string | null;
  doc: ScimDoc;
  version: number;
  source: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface TenantRow {
  kind: 'Tenant';
  id: string;
  name: string;
  status: 'active' | 'disabled';
  createdAt: Date;
}

export interface TokenRow {
  kind: 'ApiToken';
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  scopes: TokenScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

type Json = Record<string, unknown>;
const date = (v: unknown) => new Date(String(v));
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** A users row as `row_to_json` renders it (snake_case, timestamps as text). */
export function userFromJson(r: Json): UserRow {
  return {
    kind: 'User',
    id: String(r.id),
    tenantId: String(r.tenant_id),
    userName: String(r.user_name),
    displayName: text(r.display_name),
    externalId: text(r.external_id),
    active: r.active === true,
    doc: (r.doc ?? {}) as ScimDoc,
    version: Number(r.version),
    organizationId: text(r.organization_id),
    source: String(r.source),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

/** A groups row as `row_to_json` renders it. */
export function groupFromJson(r: Json): GroupRow {
  return {
    kind: 'Group',
    id: String(r.id),
    tenantId: String(r.tenant_id),
    displayName: String(r.display_name),
    externalId: text(r.external_id),
    doc: (r.doc ?? {}) as ScimDoc,
    version: Number(r.version),
    source: String(r.source),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

/** Identity-model rows (api/identity types) tagged with their GraphQL type name. */
export type OrganizationRow = Organization & { kind: 'Organization' };
export type AccountRow = Account & { kind: 'Account' };
export type CredentialRow = Credential & { kind: 'Credential' };
export type CertificateRow = Certificate & { kind: 'Certificate' };
export type RoleRow = Role & { kind: 'Role' };
export type RoleAssignmentRow = RoleAssignment & { kind: 'RoleAssignment' };

/** Tags a row with its GraphQL type name (so isTypeOf and unions can tell rows apart). */
export const tag = <K extends string, R extends object>(kind: K, row: R): R & { kind: K } => ({
  ...row,
  kind,
});
