import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../errors.ts';
import { parseSqlFilter } from './filter.ts';
import { decodeCookie, encodeCookie, entryId, parseEntryId } from './paging.ts';

describe('SQL entry ids and cookies', () => {
  it('keeps a single key as is and escapes composite keys reversibly', () => {
    expect(entryId(['a,b'])).toBe('a,b');
    for (const key of [
      ['acme', '42'],
      ['a,b', 'c\\d'],
      ['', ','],
      ['\\', '\\,'],
    ]) {
      const id = entryId(key);
      expect(parseEntryId(id, 2)).toEqual(key);
    }
    expect(entryId(['a,b', 'c\\d'])).toBe('a\\,b,c\\\\d');
    expect(parseEntryId('a,b,c', 2)).toBeUndefined();
  });

  it('round-trips a cookie and refuses a tampered one', () => {
    expect(decodeCookie(encodeCookie(['x', '1']), 2)).toEqual(['x', '1']);
    for (const bad of ['nope', encodeCookie(['x']), Buffer.from('{"a":1}').toString('base64url')]) {
      expect(() => decodeCookie(bad, 2)).toThrow(ConnectorError);
    }
  });
});

describe('SQL filter text', () => {
  it('accepts the documented forms', () => {
    expect(
      parseSqlFilter('{"a":"x","b":null,"c":{"in":[1,"2"]},"d":{"ge":1,"lt":9},"e":{"ne":null}}'),
    ).toEqual({ a: 'x', b: null, c: { in: [1, '2'] }, d: { ge: 1, lt: 9 }, e: { ne: null } });
  });

  it('refuses what it does not define, with the reason', () => {
    const cases: [string, RegExp][] = [
      ['not json', /must be JSON/],
      ['[1]', /invalid filter/],
      ['{"a":{"like":"x%"}}', /like/],
      ['{"a":{}}', /at least one/],
      ['{"a":{"gt":null}}', /gt/],
      ['{"a":[1]}', /invalid filter/],
    ];
    for (const [text, reason] of cases) {
      let error: unknown;
      try {
        parseSqlFilter(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConnectorError);
      expect((error as ConnectorError).code).toBe('refused');
      expect((error as ConnectorError).message).toMatch(reason);
    }
  });
});
