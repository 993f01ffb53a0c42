import { describe, expect, it } from 'vitest';
import { checkCron, checkName, checkTimezone, nextRunAt, optionalText } from './validate.ts';

describe('sync job validation', () => {
  it('accepts five-field crons and hourly-or-slower aliases, normalising spaces', () => {
    expect(checkCron(' 0  2 * * 1-5 ')).toBe('0 2 * * 1-5');
    expect(checkCron('*/15 * * * MON')).toBe('*/15 * * * MON');
    expect(checkCron('@daily')).toBe('@daily');
  });

  it('refuses bad crons with a message that says why', () => {
    expect(() => checkCron('61 * * * *')).toThrow(/cron "61 \* \* \* \*" is not valid: .*0-59/);
    expect(() => checkCron('nonsense')).toThrow(/five fields/);
    expect(() => checkCron('* * * * * *')).toThrow(/five fields/);
    expect(() => checkCron('@secondly')).toThrow(/not valid/);
    expect(() => checkCron('H * * * *')).toThrow(/hashed/);
    expect(() => checkCron('  ')).toThrow(/must not be empty/);
    expect(() => checkCron('0 0 30 2 *')).toThrow(/not valid/);
  });

  it('canonicalises time zones and refuses unknown ones', () => {
    expect(checkTimezone('europe/berlin')).toBe('Europe/Berlin');
    expect(checkTimezone('UTC')).toBe('UTC');
    expect(() => checkTimezone('Mars/Olympus')).toThrow(/not an IANA time zone/);
    expect(() => checkTimezone('+01:00')).toThrow(/time zone/);
  });

  it('computes the next run in the job time zone', () => {
    const from = Date.parse('2026-01-15T12:00:00Z');
    expect(nextRunAt('0 2 * * *', 'Europe/Berlin', from)?.toISOString()).toBe(
      '2026-01-16T01:00:00.000Z',
    );
    expect(nextRunAt('0 2 * * *', 'UTC', from)?.toISOString()).toBe('2026-01-16T02:00:00.000Z');
    expect(nextRunAt(null, 'UTC', from)).toBeNull();
  });

  it('checks names and optional texts', () => {
    expect(checkName('  Active users ')).toBe('Active users');
    expect(() => checkName('')).toThrow(/1–100/);
    expect(() => checkName('a\nb')).toThrow(/control/);
    expect(optionalText('filter', null)).toBeNull();
    expect(() => optionalText('filter', ' ')).toThrow(/filter must not be empty/);
  });
});
