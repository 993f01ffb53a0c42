import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { groupKind, type ResourceKind, userKind } from '../schemas/index.ts';
import { compileFilter, compileSortKey } from './compile.ts';
import { parseFilter } from './parse.ts';
import { scimError } from './test-helpers.ts';

const dialect = new PgDialect();
const render = (s: SQL) => {
  const { sql, params } = dialect.sqlToQuery(s);
  return { sql, params };
};
const q = (filter: string, kind: ResourceKind = userKind) =>
  render(compileFilter(parseFilter(filter), kind, kind === userKind ? 'users' : 'groups'));
const g = (filter: string) => q(filter, groupKind);

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const UUID = '2819c223-7f76-453a-919d-413861904646';
const DOC = '"users"."doc"';
const PRESENT = `not in ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb)`;
const emailsExists = (where: string) =>
  `exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${DOC} -> $1::text) = 'array' then ${DOC} -> $2::text else '[]'::jsonb end) as "scim_el"(value) where ${where})`;

describe('compileFilter: projected columns', () => {
  it('compares userName through the normalised key, case-insensitively', () => {
    expect(q('userName eq "BJensen@Example.COM"')).toEqual({
      sql: '"users"."user_name_key" = $1',
      params: ['bjensen@example.com'],
    });
    expect(q('UserName Eq "ｂｊ"').params).toEqual(['bj']);
    expect(q('userName sw "B_J"')).toEqual({
      sql: `"users"."user_name_key" like $1 escape '\\'`,
      params: ['b\\_j%'],
    });
    expect(q('userName gt "m"').sql).toBe('"users"."user_name_key" > $1');
  });

  it('escapes LIKE metacharacters so they match literally', () => {
    expect(q('userName co "50%_\\\\x"').params).toEqual(['%50\\%\\_\\\\x%']);
    expect(q('externalId ew "%"').params).toEqual(['%\\%']);
  });

  it('maps id to the uuid column and never casts a non-uuid', () => {
    expect(q(`id eq "${UUID.toUpperCase()}"`)).toEqual({
      sql: '"users"."id" = $1::uuid',
      params: [UUID.toUpperCase()],
    });
    expect(q('id eq "not-a-uuid"')).toEqual({ sql: 'false', params: [] });
    expect(q('id ne "not-a-uuid"')).toEqual({ sql: 'not (false)', params: [] });
    expect(q("id eq \"1' or '1'='1\"").sql).toBe('false');
    expect(q('id sw "2819C2"')).toEqual({
      sql: `"users"."id"::text like $1 escape '\\'`,
      params: ['2819c2%'],
    });
    expect(q('id pr').sql).toBe('true');
  });

  it('compares externalId exactly and handles null / pr', () => {
    expect(q('externalId eq "Ab"')).toEqual({ sql: '"users"."external_id" = $1', params: ['Ab'] });
    expect(q('externalId ne "Ab"').sql).toBe('("users"."external_id" = $1) is not true');
    expect(q('externalId pr').sql).toBe(`"users"."external_id" <> ''`);
    expect(q('externalId eq null').sql).toBe(`("users"."external_id" <> '') is not true`);
  });

  it('maps displayName per kind', () => {
    expect(q('displayName eq "Bo"')).toEqual({
      sql: 'lower("users"."display_name") = lower($1)',
      params: ['Bo'],
    });
    expect(g('displayName eq "Admins"')).toEqual({
      sql: '"groups"."display_name_key" = $1',
      params: ['admins'],
    });
  });

  it('maps active to the boolean column, accepting "True"/"False"', () => {
    expect(q('active eq true')).toEqual({ sql: '"users"."active" = $1', params: [true] });
    expect(q('active eq "False"')).toEqual({ sql: '"users"."active" = $1', params: [false] });
    expect(q('active ne true').sql).toBe('not ("users"."active" = $1)');
  });

  it('maps meta dates to timestamptz columns with a validated, canonical literal', () => {
    expect(q('meta.lastModified ge "2024-01-01"')).toEqual({
      sql: '"users"."updated_at" >= $1::timestamptz',
      params: ['2024-01-01T00:00:00.000Z'],
    });
    expect(g('meta.created lt "2024-01-01T10:00:00+02:00"')).toEqual({
      sql: '"groups"."created_at" < $1::timestamptz',
      params: ['2024-01-01T08:00:00.000Z'],
    });
    expect(q('meta.created gt "2024-01-01T10:00:00"').params).toEqual(['2024-01-01T10:00:00.000Z']);
  });

  it('answers meta.resourceType without reading the row', () => {
    expect(q('meta.resourceType eq "User"').sql).toBe('true');
    expect(q('meta.resourceType eq "Group"').sql).toBe('false');
    expect(g('meta.resourceType eq "Group"').sql).toBe('true');
    expect(q('meta pr').sql).toBe('true');
  });
});

describe('compileFilter: the document', () => {
  it('reads singular attributes with bound keys, case-insensitively unless caseExact', () => {
    expect(q('name.givenName eq "Bob"')).toEqual({
      sql: `lower((${DOC} -> $1::text -> $2::text #>> '{}')) = lower($3)`,
      params: ['name', 'givenName', 'Bob'],
    });
    expect(q('NAME.GIVENNAME eq "Bob"').params).toEqual(['name', 'givenName', 'Bob']);
    expect(q('title co "o\'k"').params).toEqual(['title', "%o'k%"]);
  });

  it('reads extension attributes under their URN key', () => {
    expect(q(`${ENT}:employeeNumber eq "1"`)).toEqual({
      sql: `lower((${DOC} -> $1::text -> $2::text #>> '{}')) = lower($3)`,
      params: [ENT, 'employeeNumber', '1'],
    });
    expect(q(`${ENT}:manager.value eq "m"`).params).toEqual([ENT, 'manager', 'value', 'm']);
    expect(q(`${ENT}:manager[value eq "m"]`).params).toEqual([ENT, 'manager', 'value', 'm']);
  });

  it('compiles pr and eq null on the document', () => {
    expect(q('title pr')).toEqual({ sql: `(${DOC} -> $1::text) ${PRESENT}`, params: ['title'] });
    expect(q('title eq null').sql).toBe(`((${DOC} -> $1::text) ${PRESENT}) is not true`);
    expect(q('title ne null').sql).toBe(`(${DOC} -> $1::text) ${PRESENT}`);
  });

  it('makes ne and not true where the attribute is absent', () => {
    expect(q('title ne "x"').sql).toBe(
      `(lower((${DOC} -> $1::text #>> '{}')) = lower($2)) is not true`,
    );
    expect(q('not (title eq "x")').sql).toBe(q('title ne "x"').sql);
    expect(q('not (title ne "x")').sql).toBe(q('title eq "x"').sql);
  });
});

describe('compileFilter: multi-valued attributes', () => {
  it('uses EXISTS over array elements, a bare attribute meaning its value', () => {
    const where = `lower(("scim_el".value -> $3::text #>> '{}')) = lower($4)`;
    expect(q('emails eq "a@b"')).toEqual({
      sql: emailsExists(where),
      params: ['emails', 'emails', 'value', 'a@b'],
    });
    expect(q('emails.value eq "a@b"')).toEqual(q('emails eq "a@b"'));
    expect(q('emails.value ne "a@b"').sql).toBe(`not (${emailsExists(where)})`);
  });

  it('requires one element to satisfy a whole value filter', () => {
    const r = q('emails[type eq "work" and value co "@x"]');
    expect(r.sql).toBe(
      emailsExists(
        `(lower(("scim_el".value -> $3::text #>> '{}')) = lower($4) and lower(("scim_el".value -> $5::text #>> '{}')) like lower($6) escape '\\')`,
      ),
    );
    expect(r.params).toEqual(['emails', 'emails', 'type', 'work', 'value', '%@x%']);
    expect(q('emails[type eq "work"].value eq "a"')).toEqual(
      q('emails[type eq "work" and value eq "a"]'),
    );
  });

  it('negates value filters as a whole and inside', () => {
    expect(q('not emails[type eq "work"]').sql).toMatch(/^not \(exists /);
    expect(q('emails[not (type eq "work")]').sql).toContain(') is not true)');
    expect(q('emails[primary eq true]').sql).toContain(`"scim_el".value -> $3::text = $4::jsonb`);
    expect(q('emails[primary eq true]').params).toEqual(['emails', 'emails', 'primary', 'true']);
  });

  it('compiles pr on the array and its sub-attributes', () => {
    expect(q('emails pr').sql).toBe(emailsExists(`("scim_el".value) ${PRESENT}`));
    expect(q('emails.type pr').sql).toBe(emailsExists(`("scim_el".value -> $3::text) ${PRESENT}`));
  });
});

describe('compileFilter: membership', () => {
  const members = (extra: string) =>
    `exists (select 1 from "group_members" as "scim_gm" where "scim_gm"."group_id" = "groups"."id" and "scim_gm"."tenant_id" = "groups"."tenant_id"${extra})`;
  const groups = (extra: string) =>
    `exists (select 1 from "group_members" as "scim_gm" where "scim_gm"."member_id" = "users"."id" and "scim_gm"."tenant_id" = "users"."tenant_id"${extra})`;

  it('filters groups by member, tenant-safe', () => {
    const byValue = { sql: members(' and "scim_gm"."member_id" = $1::uuid'), params: [UUID] };
    expect(g(`members.value eq "${UUID}"`)).toEqual(byValue);
    expect(g(`members eq "${UUID}"`)).toEqual(byValue);
    expect(g(`members[value eq "${UUID}"]`)).toEqual({
      sql: members(' and "scim_gm"."member_id" = $1::uuid'),
      params: [UUID],
    });
    expect(g('members pr')).toEqual({ sql: members(''), params: [] });
    expect(g('not (members pr)').sql).toBe(`not (${members('')})`);
    expect(g('members[value eq "junk"]').sql).toBe(members(' and false'));
    expect(g('members[type eq "Group"]').sql).toBe(
      members(' and lower("scim_gm"."member_type") = lower($1)'),
    );
  });

  it('filters users by group', () => {
    expect(q(`groups.value eq "${UUID}"`)).toEqual({
      sql: groups(' and "scim_gm"."group_id" = $1::uuid'),
      params: [UUID],
    });
    expect(q(`groups[value eq "${UUID}"]`).sql).toBe(
      groups(' and "scim_gm"."group_id" = $1::uuid'),
    );
  });

  it('rejects membership sub-attributes it cannot answer', () => {
    scimError(() => g('members.display eq "x"'), 400, 'invalidFilter');
    scimError(() => q('groups.type eq "direct"'), 400, 'invalidFilter');
  });
});

describe('compileFilter: logic', () => {
  it('parenthesises and/or and pushes not down with De Morgan', () => {
    expect(q('userName eq "a" or userName eq "b" and active eq true').sql).toBe(
      '("users"."user_name_key" = $1 or ("users"."user_name_key" = $2 and "users"."active" = $3))',
    );
    expect(q('not (userName eq "a" or active eq true)').sql).toBe(
      '(not ("users"."user_name_key" = $1) and not ("users"."active" = $2))',
    );
    expect(q('not (not (userName eq "a"))').sql).toBe('"users"."user_name_key" = $1');
  });
});

describe('compileFilter: errors (never "match everything")', () => {
  it.each([
    ['nope eq "x"', userKind],
    ['name.nope pr', userKind],
    ['name eq "x"', userKind],
    ['userName eq "x"', groupKind],
    ['members pr', userKind],
    ['active gt true', userKind],
    ['active co "t"', userKind],
    ['active eq 1', userKind],
    ['userName eq 5', userKind],
    ['userName lt null', userKind],
    ['meta.created gt "not a date"', userKind],
    ['meta.created sw "2024"', userKind],
    ['meta.version eq "W/\\"1\\""', userKind],
    ['meta.location pr', userKind],
    ['emails[type eq "work"].nope eq "x"', userKind],
    ['emails[userName eq "x"]', userKind],
    ['userName[value eq "x"]', userKind],
    ['name.givenName[value eq "x"]', userKind],
    [`urn:example:unknown:1.0:User:x eq "1"`, userKind],
  ])('%s → 400 invalidFilter', (filter, kind) => {
    scimError(() => q(filter, kind), 400, 'invalidFilter');
  });

  it('refuses password with 403 sensitive', () => {
    scimError(() => q('password eq "hunter2"'), 403, 'sensitive');
    scimError(() => q('userName pr or password pr'), 403, 'sensitive');
  });
});

describe('compileSortKey', () => {
  const s = (path: string, kind: ResourceKind = userKind) =>
    render(compileSortKey(path, kind, kind === userKind ? 'users' : 'groups'));

  it('sorts by projected columns', () => {
    expect(s('userName').sql).toBe('"users"."user_name_key"');
    expect(s('id').sql).toBe('"users"."id"');
    expect(s('meta.lastModified').sql).toBe('"users"."updated_at"');
    expect(s('externalId').sql).toBe('"users"."external_id"');
    expect(s('displayName').sql).toBe('lower("users"."display_name")');
    expect(s('displayName', groupKind).sql).toBe('"groups"."display_name_key"');
  });

  it('sorts by document attributes with their type', () => {
    expect(s('name.familyName')).toEqual({
      sql: `lower((${DOC} -> $1::text -> $2::text #>> '{}'))`,
      params: ['name', 'familyName'],
    });
    expect(s(`${ENT}:employeeNumber`).params).toEqual([ENT, 'employeeNumber']);
  });

  it('sorts a multi-valued attribute by its primary (else first) element', () => {
    const r = s('emails');
    expect(r.sql).toContain('with ordinality as "scim_el"(value, ord)');
    expect(r.sql).toContain(
      `order by ("scim_el".value -> 'primary') = 'true'::jsonb desc nulls last`,
    );
    expect(r.params).toEqual(['value', 'emails', 'emails']);
    expect(s('emails.type').params).toEqual(['type', 'emails', 'emails']);
  });

  it.each(['nope', 'name', 'meta', 'members', 'emails[type eq "work"]', 'a..b', ''])(
    'rejects %j with invalidValue',
    (path) => {
      scimError(() => s(path, path === 'members' ? groupKind : userKind), 400, 'invalidValue');
    },
  );

  it('refuses password', () => {
    scimError(() => s('password'), 403, 'sensitive');
  });
});
