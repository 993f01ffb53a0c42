import type { SQL } from 'drizzle-orm';
import type { ScimDoc } from '../../db/schema/index.ts';
import type { ResourceKind } from '../schemas/index.ts';
import type { ComputedSet } from './computed.ts';
import type { KeysetPosition } from './keyset.ts';

/** A stored resource as the protocol code needs it. */
export interface ResourceRow {
  id: string;
  doc: ScimDoc;
  externalId: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** users: computed `groups`; groups: `members` — only when loaded. */
  related?: RelatedRef[];
  /**
   * Values computed from other tables (a user's roles, certificates, organisation display;
   * an organisation's parent display and path), shaped like the document.
   */
  computed?: Record<string, unknown>;
}

export interface RelatedRef {
  value: string;
  display?: string | null;
  type: string;
}

export interface ListOptions {
  where?: SQL;
  orderBy?: { key: SQL; descending: boolean };
  offset: number;
  limit: number;
  /** Keyset position for cursor paging (scim/store/keyset.ts). */
  after?: KeysetPosition;
  /** Also return the last row's sort key (to build the next cursor). */
  withSortKey?: boolean;
  withRelated: boolean;
  /** A user's optional computed attributes the page needs. */
  computed?: ComputedSet;
}

export interface ListResult {
  rows: ResourceRow[];
  total: number;
  /** The last row's sort key as text and its SQL type, when `withSortKey` was asked. */
  lastKey?: string | null;
  lastKeyType?: string;
}

/** Member changes of a group PATCH/PUT, decided by the PATCH engine. */
export type MemberChange =
  | { kind: 'add'; members: { value: string; type?: 'User' | 'Group' }[] }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'replace'; members: { value: string; type?: 'User' | 'Group' }[] }
  | { kind: 'clear' };

export interface StoreKind {
  kind: ResourceKind;
  table: 'users' | 'groups' | 'organizations';
}
