/**
 * Checks of a sync job's own fields (schedule, selection, JSON settings). Mapping, correlation
 * and options are only required to be objects here; their contents are checked by the mapping
 * engine when it arrives.
 */
import { getNextMillis } from 'bullmq';
import { IdentityError } from '../../api/identity/errors.ts';

const invalid = (message: string) => new IdentityError('invalid', message);

/** The aliases we accept: none of them fires more often than hourly. */
const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);

/**
 * A cron expression as BullMQ's scheduler reads it (cron-parser, through BullMQ's own
 * `getNextMillis`, so "valid here" means "schedulable there"). Five fields only: a seconds
 * field would let a directory import start every second. `H` (hashed) values are refused
 * because they change with the parser's seed, so the next run shown would not be the real one.
 */
export function checkCron(value: string): string {
  const cron = value.trim().replace(/\s+/g, ' ');
  const help = 'five fields (minute hour day-of-month month day-of-week) or @hourly/@daily/…';
  if (!cron) throw invalid(`cron must not be empty (null means "by hand only"); use ${help}`);
  if (cron.startsWith('@')) {
    if (!ALIASES.has(cron.toLowerCase())) throw invalid(`cron "${cron}" is not valid; use ${help}`);
  } else if (cron.split(' ').length !== 5) {
    throw invalid(`cron "${cron}" is not valid: it needs ${help}`);
  } else if (/h/i.test(cron.replace(/[a-z]{3}/gi, ''))) {
    throw invalid(`cron "${cron}" is not valid: hashed values (H) are not supported`);
  }
  let next: number | undefined;
  try {
    next = getNextMillis(Date.now(), { pattern: cron, tz: 'UTC' });
  } catch (e) {
    throw invalid(`cron "${cron}" is not valid: ${(e as Error).message}`);
  }
  if (next === undefined) throw invalid(`cron "${cron}" never fires`);
  return cron;
}

/**
 * An IANA time zone, returned in its canonical spelling ("europe/berlin" → "Europe/Berlin").
 * Intl knows links such as "UTC" and "US/Pacific" that supportedValuesOf omits, so the check
 * is a DateTimeFormat; cron-parser (luxon) must accept the result too.
 */
export function checkTimezone(value: string): string {
  const given = value.trim();
  let tz: string;
  try {
    tz = new Intl.DateTimeFormat('en', { timeZone: given }).resolvedOptions().timeZone;
  } catch {
    throw invalid(`timezone "${given}" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")`);
  }
  try {
    getNextMillis(Date.now(), { pattern: '0 0 * * *', tz });
  } catch {
    throw invalid(`timezone "${given}" is not supported by the scheduler`);
  }
  return tz;
}

/** When the schedule fires next, or null without one. */
export function nextRunAt(cron: string | null, tz: string, from = Date.now()): Date | null {
  if (!cron) return null;
  try {
    const next = getNextMillis(from, { pattern: cron, tz });
    return next === undefined ? null : new Date(next);
  } catch {
    // A row written before a stricter rule: show no next run rather than fail the query.
    return null;
  }
}

/** A job name: shown to admins and in logs; unique per tenant, case-insensitively. */
export function checkName(value: string): string {
  const name = value.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (!name || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw invalid('name must be 1–100 characters without control characters');
  }
  return name;
}

/** An optional text: null stays null; given, it must say something. */
export function optionalText(what: string, value: string | null | undefined): string | null {
  if (value == null) return null;
  const text = value.trim();
  if (!text) throw invalid(`${what} must not be empty when given (leave it out or send null)`);
  return text;
}

export function jsonObject(what: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
