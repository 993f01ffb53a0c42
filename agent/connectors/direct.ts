/**
 * Data sources the hub reaches directly (no agent): their config is stored in the hub's
 * database, in the shape of an application.yaml `dataSources.<name>` entry, except that the hub
 * has no files — secrets are inline and a CA is PEM text, never a path.
 */
import { z } from 'zod';
import {
  type DataSourceConfig,
  ldapSourceSchema,
  redact,
  Secret,
  scimSourceSchema,
  sqlSourceSchema,
} from '../config/index.ts';
import { dataSourceNameSchema, describeIssues, type Parsed } from '../protocol.ts';

export type DataSourceKind = DataSourceConfig['type'];

const text = z.string().trim().min(1, 'must not be empty');
/** The dispatcher tells PEM text from a file path by this prefix (see connectors/tls.ts). */
const pem = z
  .string()
  .trim()
  .regex(/^-----BEGIN [A-Z0-9 ]+-----/, 'must be PEM text (-----BEGIN CERTIFICATE-----…)');

const directSchemas = {
  ldap: ldapSourceSchema.omit({ passwordFile: true }).extend({
    password: text,
    tls: z
      .strictObject({ startTls: z.boolean().default(false), ca: pem.optional() })
      .default({ startTls: false }),
  }),
  sql: sqlSourceSchema.omit({ passwordFile: true }).extend({ password: text.optional() }),
  scim: scimSourceSchema.extend({
    auth: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('bearer'), token: text }),
      z.strictObject({ type: z.literal('basic'), userName: text, password: text }),
    ]),
    tls: z.strictObject({ ca: pem.optional() }).optional(),
  }),
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a stored direct data source config. `type` may be omitted (taken from `kind`);
 * `*File` references are refused. Problems are `path: message` lines naming keys, never values.
 */
export function parseDirectDataSource(
  kind: DataSourceKind,
  config: unknown,
  name: string,
): Parsed<DataSourceConfig> {
  const problems: string[] = [];
  const nameOk = dataSourceNameSchema.safeParse(name);
  if (!nameOk.success) problems.push(...describeIssues(nameOk.error).map((p) => `name: ${p}`));
  if (!isObj(config)) return { ok: false, problems: [...problems, '(root): must be an object'] };
  if (config.type !== undefined && config.type !== kind) {
    problems.push(`type: must be "${kind}" (the data source's kind) or omitted`);
  }
  const stripped = stripFileKeys(config, [], problems);
  if (kind === 'ldap') checkStartTls(stripped, problems);
  const parsed = parseKind(kind, { ...stripped, type: kind });
  if (!parsed.ok) problems.push(...parsed.problems);
  if (problems.length || !parsed.ok) return { ok: false, problems };
  return parsed;
}

function parseKind(kind: DataSourceKind, raw: Obj): Parsed<DataSourceConfig> {
  if (kind === 'ldap') {
    const r = directSchemas.ldap.safeParse(raw);
    if (!r.success) return { ok: false, problems: describeIssues(r.error) };
    return { ok: true, value: { ...r.data, password: new Secret(r.data.password) } };
  }
  if (kind === 'sql') {
    const r = directSchemas.sql.safeParse(raw);
    if (!r.success) return { ok: false, problems: describeIssues(r.error) };
    const { password, key, ...rest } = r.data;
    return {
      ok: true,
      value: {
        ...rest,
        key: Array.isArray(key) ? key : [key],
        password: password === undefined ? undefined : new Secret(password),
      },
    };
  }
  const r = directSchemas.scim.safeParse(raw);
  if (!r.success) return { ok: false, problems: describeIssues(r.error) };
  const a = r.data.auth;
  const auth =
    a.type === 'bearer'
      ? { type: 'bearer' as const, token: new Secret(a.token) }
      : { type: 'basic' as const, userName: a.userName, password: new Secret(a.password) };
  return { ok: true, value: { ...r.data, baseUrl: r.data.baseUrl.replace(/\/+$/, ''), auth } };
}

/** Drops every `*File` key with a problem line, so zod reports only the real shape issues. */
function stripFileKeys(node: Obj, at: string[], problems: string[]): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(node)) {
    const here = [...at, key].join('.');
    if (key.endsWith('File')) {
      const inline = key.slice(0, -'File'.length);
      problems.push(`${here}: the hub reads no files; give ${inline} inline instead`);
    } else out[key] = isObj(value) ? stripFileKeys(value, [...at, key], problems) : value;
  }
  return out;
}

function checkStartTls(raw: Obj, problems: string[]): void {
  const startTls = isObj(raw.tls) && raw.tls.startTls === true;
  if (startTls && typeof raw.url === 'string' && raw.url.toLowerCase().startsWith('ldaps:')) {
    problems.push('tls.startTls: StartTLS is for ldap:// URLs; ldaps:// is already TLS');
  }
}

/** Keys that hold a secret in a data source config (case-insensitive). */
export const SECRET_CONFIG_KEYS: readonly string[] = [
  'password',
  'token',
  'secret',
  'clientSecret',
  'privateKey',
  'keyStorePassword',
  'trustStorePassword',
  'credentials',
];
const SECRET_PATTERN = /pass(word|phrase)?$|secret|token|privatekey|credential/i;
const isSecretKey = (key: string) =>
  !key.endsWith('File') &&
  (SECRET_PATTERN.test(key) ||
    SECRET_CONFIG_KEYS.some((k) => k.toLowerCase() === key.toLowerCase()));
const urlHasPassword = (v: unknown) =>
  typeof v === 'string' && URL.canParse(v) && new URL(v).password !== '';

/**
 * Dotted paths of every secret in `config`: secret-looking keys with a value, and URLs that
 * carry a password. The hub refuses these for agent-enabled data sources (the agent holds
 * their secrets; the hub must not). `*File` references are not secrets and are not listed.
 */
export function secretKeysIn(config: unknown, at: string[] = []): string[] {
  if (Array.isArray(config)) return config.flatMap((v, i) => secretKeysIn(v, [...at, String(i)]));
  if (!isObj(config)) return [];
  return Object.entries(config).flatMap(([key, value]) => {
    const here = [...at, key];
    if (value == null) return [];
    if (isSecretKey(key) || urlHasPassword(value)) return [here.join('.')];
    return secretKeysIn(value, here);
  });
}

/** A copy safe for logs and API responses: secret keys, Secrets and URL passwords redacted. */
export function redactDataSourceConfig(config: Record<string, unknown>): Record<string, unknown> {
  return redact(config) as Record<string, unknown>;
}
