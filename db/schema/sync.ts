import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { dataSources } from './agents.ts';
import { lifecycleDates, tenantRef } from './columns.ts';
import { users } from './identity.ts';
import { accounts } from './linkage.ts';

export const syncJobKinds = ['import_active', 'import_inactive', 'reconcile'] as const;
export type SyncJobKind = (typeof syncJobKinds)[number];
export const syncScopes = ['base', 'one', 'sub'] as const;
export type SyncScope = (typeof syncScopes)[number];
export const syncRunStatuses = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'awaiting_approval',
  'cancelled',
] as const;
export type SyncRunStatus = (typeof syncRunStatuses)[number];
/** The counter columns of a run (what it read and did with the entries). */
export const syncRunCounters = [
  'read',
  'created',
  'updated',
  'unchanged',
  'deactivated',
  'deleted',
  'failed',
  'skipped',
] as const;

/**
 * A directory import of one data source: what to read (base DN, scope, filter), how to map
 * and correlate it, and when (cron in a time zone; null = by hand only). The BullMQ job
 * scheduler `sync-job:<id>` mirrors cron/tz/enabled.
 */
export const syncJobs = pgTable(
  'sync_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    dataSourceId: uuid('data_source_id')
      .notNull()
      .references(() => dataSources.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    kind: text('kind', { enum: syncJobKinds }).notNull(),
    cron: text('cron'),
    timezone: text('timezone').notNull().default('UTC'),
    enabled: boolean('enabled').notNull().default(true),
    baseDn: text('base_dn'),
    scope: text('scope', { enum: syncScopes }).notNull().default('sub'),
    filter: text('filter'),
    mapping: jsonb('mapping').$type<Record<string, unknown>>().notNull().default({}),
    correlation: jsonb('correlation').$type<Record<string, unknown>>().notNull().default({}),
    options: jsonb('options').$type<Record<string, unknown>>().notNull().default({}),
    ...lifecycleDates(),
  },
  (t) => [
    uniqueIndex('sync_jobs_name_key').on(t.tenantId, sql`lower(${t.name})`),
    index('sync_jobs_data_source_idx').on(t.dataSourceId),
  ],
);

/**
 * One execution of a sync job. At most one run per job is queued or running (partial unique
 * index): that is what keeps replicas and double clicks from starting a job twice at once.
 */
export const syncRuns = pgTable(
  'sync_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => syncJobs.id, { onDelete: 'cascade' }),
    status: text('status', { enum: syncRunStatuses }).notNull().default('queued'),
    dryRun: boolean('dry_run').notNull().default(false),
    trigger: text('trigger', { enum: ['schedule', 'manual'] }).notNull(),
    /** `token:<id>`, `operator`, `system:<name>` (audit.ts actorLabel). */
    triggeredBy: text('triggered_by'),
    /** Set on a running run by cancelRun; the worker stops at its next checkpoint. */
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    read: integer('read').notNull().default(0),
    created: integer('created').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    unchanged: integer('unchanged').notNull().default(0),
    deactivated: integer('deactivated').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    deleted: integer('deleted').notNull().default(0),
    /** full: every selected entry read; delta: only entries changed since the watermark. */
    mode: text('mode', { enum: ['full', 'delta'] }),
    /** How many times a worker (re)started it: >1 after a worker died mid-run. */
    attempts: integer('attempts').notNull().default(0),
    /** The plan's decision by an administrator (awaiting_approval → approved/rejected). */
    decision: text('decision', { enum: ['approved', 'rejected'] }),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    /** Last progress write (counters move while it runs). */
    progressAt: timestamp('progress_at', { withTimezone: true }),
    watermark: jsonb('watermark').$type<Record<string, unknown>>(),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('sync_runs_job_idx').on(t.jobId, t.createdAt),
    uniqueIndex('sync_runs_active_key')
      .on(t.jobId)
      .where(sql`${t.status} in ('queued', 'running')`),
  ],
);

/** Deactivations/deletions a run holds back for approval (the mass-change guard). */
export const stagedChanges = pgTable(
  'staged_changes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    runId: uuid('run_id')
      .notNull()
      .references(() => syncRuns.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    action: text('action', { enum: ['deactivate', 'delete'] }).notNull(),
    /** The entry's last known DN, for the plan shown to the approver. */
    dn: text('dn'),
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('staged_changes_run_idx').on(t.runId)],
);

/** Entries a run could not apply, with the reason (the first `maxErrors` per run). */
export const syncRunErrors = pgTable(
  'sync_run_errors',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    runId: uuid('run_id')
      .notNull()
      .references(() => syncRuns.id, { onDelete: 'cascade' }),
    /** The entry's DN (or id). */
    entry: text('entry').notNull(),
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sync_run_errors_run_idx').on(t.runId, t.createdAt)],
);
