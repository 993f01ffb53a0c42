/**
 * A sync job's settings as the engine reads them: `options`, `correlation` and `mapping` are
 * stored as JSON objects and checked here — when the job is saved (so a bad value is a clear
 * error at once) and again when a run starts (rows written before a rule changed).
 */
import { z } from 'zod';
import { describeIssues } from '../../agent/protocol.ts';
import type { SyncJobKind } from '../../db/schema/index.ts';
import { type CompiledMapping, compileMapping, DEFAULT_MAPPINGS } from '../mapping/index.ts';

export const directoryKinds = ['openldap', 'activeDirectory'] as const;
export type DirectoryKind = (typeof directoryKinds)[number];

const guardSchema = z.strictObject({
  /** Deactivations + deletions above this many hold the run for approval. */
  maxChanges: z.int().min(0).default(500),
  /** …or above this share of the accounts the job holds (percent). */
  maxPercent: z.number().min(0).max(100).default(10),
  /** A full read returning fewer than this share of the previous full read holds the run. */
  minReadPercent: z.number().min(0).max(100).default(50),
});

const groupsSchema = z.strictObject({
  /** Where the groups live (default: the job's base DN). */
  baseDn: z.string().min(1).optional(),
  scope: z.enum(['base', 'one', 'sub']).default('sub'),
  /** Default: (objectClass=groupOfNames) on OpenLDAP, (objectClass=group) on AD. */
  filter: z.string().min(1).optional(),
});

export const optionsSchema = z.strictObject({
  /** Which directory the data source is: anchors, defaults and delta sync follow it. */
  directory: z.enum(directoryKinds).default('openldap'),
  /** Entries per page read from the directory (and written per transaction). */
  pageSize: z.int().min(1).max(5000).default(1000),
  /** Read only what changed since the last successful run (import jobs; reconcile reads all). */
  delta: z.boolean().default(true),
  /** Reconcile: what happens to linked entries that are no longer selected. */
  missing: z.enum(['deactivate', 'delete', 'ignore']).default('deactivate'),
  guard: guardSchema.default(guardSchema.parse({})),
  /** Also import the groups (with nested groups) whose members are imported users. */
  groups: groupsSchema.optional(),
  /** Put users into the organisation tree from their OU path (needs a dnToOrganization rule). */
  organizations: z.boolean().default(true),
  /** Per-entry errors kept per run (the counters count all of them). */
  maxErrors: z.int().min(0).max(10_000).default(100),
});
export type SyncOptions = z.output<typeof optionsSchema>;

export const correlationSchema = z.strictObject({
  /** The hub attribute an unlinked entry is matched on, with the value the mapping gives it. */
  attribute: z.enum(['userName', 'externalId', 'none']).default('userName'),
});
export type Correlation = z.output<typeof correlationSchema>;

export interface JobSettings {
  options: SyncOptions;
  correlation: Correlation;
  mapping: CompiledMapping;
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function parse<T>(what: string, schema: z.ZodType<T>, value: unknown): T | string[] {
  const r = schema.safeParse(value ?? {});
  return r.success ? r.data : describeIssues(r.error).map((p) => `${what}.${p}`);
}

const isEmpty = (v: unknown) =>
  v == null || (typeof v === 'object' && Object.keys(v as object).length === 0);

/** Validates and compiles a job's settings; all problems at once, as `options.pageSize: …`. */
export function jobSettings(job: {
  kind?: SyncJobKind;
  options: unknown;
  correlation: unknown;
  mapping: unknown;
}): JobSettings {
  const problems: string[] = [];
  const options = parse('options', optionsSchema, job.options);
  const correlation = parse('correlation', correlationSchema, job.correlation);
  if (Array.isArray(options)) problems.push(...options);
  if (Array.isArray(correlation)) problems.push(...correlation);
  const directory = Array.isArray(options) ? 'openldap' : options.directory;
  // An empty mapping means the default one of the directory kind.
  const compiled = compileMapping(isEmpty(job.mapping) ? DEFAULT_MAPPINGS[directory] : job.mapping);
  if (!compiled.ok) problems.push(...compiled.problems.map((p) => `mapping.${p}`));
  if (problems.length || Array.isArray(options) || Array.isArray(correlation) || !compiled.ok) {
    throw new SettingsError(problems);
  }
  return { options, correlation, mapping: compiled.mapping };
}

/** The attribute that anchors an account link (immutable across renames and moves). */
export const anchorAttribute = (d: DirectoryKind) =>
  d === 'activeDirectory' ? 'objectGUID' : 'entryUUID';

/** What the directory is asked for: every attribute the mapping reads, plus the anchor. */
export function searchAttributes(settings: JobSettings): string[] {
  const seen = new Map<string, string>();
  const add = (a: string) => {
    if (!seen.has(a.toLowerCase())) seen.set(a.toLowerCase(), a);
  };
  for (const rule of settings.mapping.rules) for (const s of rule.sources) add(s);
  add(anchorAttribute(settings.options.directory));
  return [...seen.values()];
}

/**
 * The filter a kind selects by default when the job has none: active users (not disabled in
 * AD, not locked by ppolicy in OpenLDAP) for import_active, the disabled/locked ones for
 * import_inactive, every user for reconcile (whose mapping then says which are active).
 */
export function defaultFilter(kind: SyncJobKind, d: DirectoryKind): string {
  const users =
    d === 'activeDirectory'
      ? '(&(objectCategory=person)(objectClass=user))'
      : '(objectClass=inetOrgPerson)';
  if (kind === 'reconcile') return users;
  const disabled =
    d === 'activeDirectory'
      ? '(userAccountControl:1.2.840.113556.1.4.803:=2)'
      : '(pwdAccountLockedTime=*)';
  return kind === 'import_inactive' ? `(&${users}${disabled})` : `(&${users}(!${disabled}))`;
}
