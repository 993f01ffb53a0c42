import { describe, expect, it } from 'vitest';
import { groupKind, userKind } from '../schemas/index.ts';
import { compileMatcher, matchFilter } from './match.ts';
import { parseFilter } from './parse.ts';
import { scimError } from './test-helpers.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const user = {
  id: '2819c223-7f76-453a-919d-413861904646',
  userName: 'Bjensen@Example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
  title: '',
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  meta: {
    resourceType: 'User',
    created: '2024-01-10T08:00:00.000Z',
    lastModified: '2024-03-01T12:30:00Z',
  },
  [ENT]: { employeeNumber: '701984', manager: { value: 'm-1' } },
};

const m = (filter: string, obj: unknown = user) => matchFilter(parseFilter(filter), obj, userKind);

describe('matchFilter on a whole resource', () => {
  it.each([
    ['userName eq "bjensen@example.com"', true],
    ['USERNAME Eq "BJENSEN@EXAMPLE.COM"', true],
    ['userName sw "bjen"', true],
    ['userName ew ".COM"', true],
    ['userName co "@exa"', true],
    ['userName ne "bjensen@example.com"', false],
    ['userName gt "a"', true],
    ['userName lt "a"', false],
    ['id eq "2819C223-7F76-453A-919D-413861904646"', false],
    ['id eq "2819c223-7f76-453a-919d-413861904646"', true],
    ['name.givenName eq "barbara"', true],
    ['name.familyName pr', true],
    ['name.middleName pr', false],
    ['title pr', false],
    ['nickName eq null', true],
    ['title eq null', true],
    ['name.givenName ne null', true],
    ['active eq true', true],
    ['active eq "False"', false],
    ['active ne false', true],
    ['emails pr', true],
    ['emails co "jensen.org"', true],
    ['emails.value ew "@example.com"', true],
    ['emails.type eq "other"', false],
    ['emails[type eq "work" and value co "babs"]', false],
    ['emails[type eq "home" and value co "babs"]', true],
    ['emails[type eq "work"].value eq "bjensen@example.com"', true],
    ['emails[primary eq true].type eq "home"', false],
    ['emails.value ne "babs@jensen.org"', false],
    ['not emails[type eq "other"]', true],
    ['meta.created lt "2024-02-01"', true],
    ['meta.lastModified ge "2024-03-01T13:30:00+01:00"', true],
    ['meta.lastModified gt "2024-03-01T12:30:00Z"', false],
    ['meta.resourceType eq "User"', true],
    [`${ENT}:employeeNumber eq "701984"`, true],
    [`${ENT.toUpperCase()}:EMPLOYEENUMBER eq "701984"`, true],
    [`${ENT}:manager.value eq "m-1"`, true],
    [`${ENT}:manager[value eq "m-1"]`, true],
    [`${ENT}:department pr`, false],
    ['userName eq "x" or not (name.givenName eq "Bob" or title pr)', true],
    ['not (userName pr and active eq true)', false],
  ])('%s → %s', (filter, expected) => {
    expect(m(filter)).toBe(expected);
  });

  it('reads attribute names case-insensitively from the object', () => {
    expect(m('name.givenName eq "Barbara"', { NAME: { GivenName: 'Barbara' } })).toBe(true);
  });

  it('ignores inherited properties', () => {
    expect(m('displayName eq "x"', Object.create({ displayName: 'x' }))).toBe(false);
  });

  it('treats stored junk as no match rather than throwing', () => {
    expect(m('emails.value eq "x"', { emails: 'x' })).toBe(false);
    expect(m('name.givenName eq "x"', { name: 'x' })).toBe(false);
    expect(m('meta.created gt "2020-01-01"', { meta: { created: 'yesterday' } })).toBe(false);
    expect(m('active eq true', { active: 'true' })).toBe(false);
  });
});

describe('matchFilter on array elements (PATCH value filters)', () => {
  const match = (filter: string, el: unknown, base: string, kind = userKind) =>
    matchFilter(parseFilter(filter), el, kind, base);

  it('matches emails elements by sub-attribute', () => {
    const [work, home] = user.emails;
    expect(match('type eq "work"', work, 'emails')).toBe(true);
    expect(match('type eq "WORK"', work, 'emails')).toBe(true);
    expect(match('type eq "work"', home, 'emails')).toBe(false);
    expect(match('type eq "home" and value co "babs"', home, 'emails')).toBe(true);
    expect(match('primary pr', home, 'emails')).toBe(false);
  });

  it('compares members[value eq …] exactly (caseExact)', () => {
    expect(match('value eq "abc"', { value: 'abc' }, 'members', groupKind)).toBe(true);
    expect(match('value eq "ABC"', { value: 'abc' }, 'members', groupKind)).toBe(false);
    expect(match('value eq "abc" or value eq "def"', { value: 'def' }, 'members', groupKind)).toBe(
      true,
    );
  });

  it('compiles once and applies to many elements', () => {
    const isWork = compileMatcher(parseFilter('type eq "work"'), userKind, 'emails');
    expect(user.emails.filter(isWork)).toEqual([user.emails[0]]);
  });

  it('rejects paths that are not sub-attributes of the base', () => {
    scimError(() => match('userName eq "x"', {}, 'emails'), 400, 'invalidFilter');
    scimError(() => match('value.x eq "x"', {}, 'emails'), 400, 'invalidFilter');
    scimError(() => match(`${ENT}:department eq "x"`, {}, 'emails'), 400, 'invalidFilter');
    scimError(() => match('x[value pr]', {}, 'emails'), 400, 'invalidFilter');
  });
});

describe('matchFilter errors', () => {
  it.each([
    'nope eq "x"',
    'name.nope eq "x"',
    'name eq "x"',
    'active gt true',
    'active co "t"',
    'active eq "yes"',
    'userName eq 5',
    'userName gt null',
    'meta.created eq "last tuesday"',
    'meta.created eq "2024-02-30"',
    'meta.created co "2024"',
    'userName pr[type pr]',
    'name.givenName[value pr]',
  ])('%s → 400 invalidFilter', (filter) => {
    scimError(() => m(filter), 400, 'invalidFilter');
  });

  it('checks branches the data never reaches', () => {
    scimError(() => m('userName pr or nope pr'), 400, 'invalidFilter');
    scimError(() => m('emails[nope eq "x"]', {}), 400, 'invalidFilter');
  });

  it('refuses to filter on password (403 sensitive)', () => {
    scimError(() => m('password eq "secret"'), 403, 'sensitive');
    scimError(() => m('password pr'), 403, 'sensitive');
  });
});
