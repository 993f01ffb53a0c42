import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { multiValuedSub } from '../schemas/common.ts';
import { attr, type ResourceKind, userKind } from '../schemas/index.ts';
import { compileMatcher } from './match.ts';
import { parseFilter } from './parse.ts';
import { fromScimmy, toScimmy, Unrepresentable } from './scimmy-repr.ts';
import { and, cmp, not, or, pr, scimError, vp } from './test-helpers.ts';

/**
 * Peer fixtures from scimmy (MIT, see the folder's LICENSE.md), read in place. Cases where
 * scimmy's expectation is not RFC 7644 are listed in DIFFERS with the reason, and we assert
 * our own behaviour for them instead.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = path.resolve(repoRoot, '../shared/peer-suites/scimmy-fixtures/types__filter.json');
const present = existsSync(FIXTURE);
if (!present) console.warn(`scimmy filter fixtures skipped: ${FIXTURE} not found`);

interface ParseCase {
  source: string;
  target: Record<string, unknown>[];
}
interface MatchCase {
  expression: unknown;
  expected: number[];
}
interface Fixtures {
  parse: Record<string, ParseCase[]>;
  expression: Record<string, { source: Record<string, unknown>[]; target: string }[]>;
  match: { source: Record<string, unknown>[]; targets: Record<string, MatchCase[]> };
}
const fixtures: Fixtures = present
  ? JSON.parse(readFileSync(FIXTURE, 'utf8'))
  : { parse: {}, expression: {}, match: { source: [], targets: {} } };

/** Filters we reject on purpose: outside the RFC 7644 ABNF. */
const REJECTED: Record<string, string> = {
  'valid$Name eq null': "'$' is not an ATTRNAME character",
  '-valid$Name eq -null': 'ATTRNAME starts with ALPHA; -null is not a value',
};
const isNonRfcValuePath = (s: string) => /\]\.\w+\[/.test(s) || /\] (pr|co|eq)/.test(s);

/** Filters where scimmy's tree is wrong or cannot express ours: we assert our own tree. */
const OURS: Record<string, unknown> = {
  // scimmy turns not (a or b) into not a or not b; De Morgan gives not a and not b.
  'userName sw "A" and not (userName ew "Z" or displayName co "Bob")': [
    {
      userName: [
        ['sw', 'A'],
        ['not', 'ew', 'Z'],
      ],
      displayName: ['not', 'co', 'Bob'],
    },
  ],
  'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")': and(
    cmp('userType', 'ne', 'Employee'),
    not(or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org'))),
  ),
  // scimmy negates only the trailing comparison; we negate the whole value filter.
  'not emails[type eq "work"].value pr': not(
    vp('emails', and(cmp('type', 'eq', 'work'), pr('value'))),
  ),
};

describe.skipIf(!present)('scimmy fixtures: parse', () => {
  const cases = Object.entries(fixtures.parse).flatMap(([group, list]) =>
    list.map((c) => ({ ...c, name: `${group}: ${c.source}` })),
  );

  it.each(cases)('$name', ({ source, target }) => {
    if (source in REJECTED || isNonRfcValuePath(source)) {
      scimError(() => parseFilter(source), 400, 'invalidFilter');
      return;
    }
    const ours = OURS[source];
    if (ours && !Array.isArray(ours)) return expect(parseFilter(source)).toEqual(ours);
    expect(toScimmy(parseFilter(source))).toEqual(ours ?? target);
  });
});

describe.skipIf(!present)('scimmy fixtures: expression (their tree → text → our parser)', () => {
  const cases = Object.entries(fixtures.expression).flatMap(([group, list]) =>
    list.map((c) => ({ ...c, name: `${group}: ${c.target}` })),
  );

  it.each(cases)('$name', ({ source, target }) => {
    if (isNonRfcValuePath(target)) {
      scimError(() => parseFilter(target), 400, 'invalidFilter');
      return;
    }
    expect(toScimmy(parseFilter(target))).toEqual(source);
  });

  it('cannot express a negated value filter in scimmy form', () => {
    expect(() => toScimmy(parseFilter('not emails[type pr]'))).toThrow(Unrepresentable);
  });
});

/** scimmy's match data has no schema and compares case-sensitively; mirror that here. */
const fixtureKind: ResourceKind = {
  ...userKind,
  core: {
    ...userKind.core,
    attributes: [
      attr('userName', 'string', { caseExact: true }),
      attr('name', 'complex', {
        subAttributes: ['formatted', 'givenName', 'familyName'].map((n) =>
          attr(n, 'string', { caseExact: true }),
        ),
      }),
      attr('emails', 'complex', {
        multiValued: true,
        subAttributes: multiValuedSub().map((a) => ({ ...a, caseExact: true })),
      }),
      attr('number', 'integer'),
      attr('date', 'dateTime'),
      attr('exists', 'boolean'),
    ],
  },
  extensions: [],
};

/** Comparisons we answer 400 on purpose, with why. */
const MATCH_DIFFERS: [RegExp, string][] = [
  [/"number":\["(eq|ne|gt|ge|lt|le)","\d+"\]/, 'a string compared with a number attribute → 400'],
  [/"falsey"/, 'only true/false (or "True"/"False") compare with a boolean → 400'],
  [/"2021-09"\]/, 'partial date "2021-09" and co on a date-time → 400'],
];

describe.skipIf(!present)('scimmy fixtures: match', () => {
  const { source, targets } = fixtures.match;
  const cases = Object.entries(targets).flatMap(([group, list]) =>
    list.map((c) => ({ ...c, name: `${group}: ${JSON.stringify(c.expression)}` })),
  );

  it.each(cases)('$name', ({ name, expression, expected }) => {
    const node = fromScimmy(expression);
    if (!node) {
      // "np", "un" and [valueFilter, ["pr"]] are scimmy extensions with no RFC 7644 text form.
      expect(name).toMatch(/"(np|un)"|\[\{/);
      return;
    }
    if (MATCH_DIFFERS.some(([re]) => re.test(name))) {
      scimError(() => compileMatcher(node, fixtureKind), 400, 'invalidFilter');
      return;
    }
    const matcher = compileMatcher(node, fixtureKind);
    expect(source.filter(matcher).map((r) => r.id)).toEqual(expected);
  });
});
