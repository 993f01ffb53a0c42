/**
 * The shape of application.yaml. Structure only: cross-field rules that must be reported even
 * when other parts are broken (files, allow-list, which auth) live in checks.ts.
 */
import { z } from 'zod';
import { dataSourceNameSchema, MAX_RESULT_BYTES } from '../protocol.ts';

const text = z.string().trim().min(1, 'must not be empty');
const filePath = text;
const port = z.int().min(1).max(65535);

const urlWith = (protocols: RegExp, hint: string) =>
  z.url({ protocol: protocols, error: `must be a ${hint} URL` });

export const ldapSourceSchema = z.strictObject({
  type: z.literal('ldap'),
  url: urlWith(/^ldaps?$/, 'ldap:// or ldaps://'),
  bindDn: text,
  password: text.optional(),
  passwordFile: filePath.optional(),
  baseDn: text,
  tls: z
    .strictObject({
      /** Upgrade an ldap:// connection with StartTLS. */
      startTls: z.boolean().default(false),
      /** PEM CA bundle for a server certificate that is not publicly trusted. */
      ca: filePath.optional(),
    })
    .default({ startTls: false }),
});

const identifier = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/,
    'must be a plain SQL identifier (optionally schema.name)',
  );

export const sqlSourceSchema = z.strictObject({
  type: z.literal('sql'),
  url: urlWith(/^postgres(ql)?$/, 'postgres://'),
  /** Password kept out of the URL. */
  passwordFile: filePath.optional(),
  /** A table or view. */
  table: identifier,
  /** Key column(s): upsert/delete match on them, search returns them as the entry id. */
  key: z.union([identifier, z.array(identifier).min(1)]),
  /** Attribute name → column. */
  columns: z
    .record(text, identifier)
    .refine((c) => Object.keys(c).length > 0, 'must map at least one attribute'),
});

const secretOrFile = {
  password: text.optional(),
  passwordFile: filePath.optional(),
};

export const scimSourceSchema = z.strictObject({
  type: z.literal('scim'),
  baseUrl: urlWith(/^https?$/, 'http(s)://'),
  auth: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('bearer'),
      token: text.optional(),
      tokenFile: filePath.optional(),
    }),
    z.strictObject({ type: z.literal('basic'), userName: text, ...secretOrFile }),
  ]),
  tls: z.strictObject({ ca: filePath.optional() }).optional(),
});

export const dataSourceSchema = z.discriminatedUnion('type', [
  ldapSourceSchema,
  sqlSourceSchema,
  scimSourceSchema,
]);

export const RECONNECT_CAP_MS = 300_000;

export const agentConfigSchema = z.strictObject({
  urls: z.array(urlWith(/^https?$/, 'http(s)://')).min(1, 'list at least one hub URL'),
  tenantId: z.uuid('must be the tenant id (a UUID)'),

  userName: text.optional(),
  ...secretOrFile,
  /** PKCS#12 client certificate + key. */
  keyStore: filePath.optional(),
  keyStorePassword: text.optional(),
  keyStorePasswordFile: filePath.optional(),
  /** PEM client certificate + key, instead of keyStore. */
  certFile: filePath.optional(),
  keyFile: filePath.optional(),

  /** PEM CA bundle or PKCS#12 (.p12/.pfx) for a hub certificate not publicly trusted. */
  trustStore: filePath.optional(),
  trustStorePassword: text.optional(),

  reconnectDelay: z
    .strictObject({
      initialMs: z.int().min(100).max(60_000).default(1000),
      maxMs: z
        .int()
        .min(100)
        .max(RECONNECT_CAP_MS, `must be at most ${RECONNECT_CAP_MS}`)
        .default(60_000),
      /** Fraction of the delay added or removed at random (0..1). */
      jitter: z.number().min(0).max(1).default(0.2),
    })
    .refine((r) => r.maxMs >= r.initialMs, {
      message: 'maxMs must be at least initialMs',
      path: ['maxMs'],
    })
    .default({ initialMs: 1000, maxMs: 60_000, jitter: 0.2 }),
  keepAlive: z
    .strictObject({
      /** Expected heartbeat interval; the stream is dropped after 2 × this with no bytes. */
      intervalMs: z.int().min(1000).max(120_000).default(15_000),
    })
    .default({ intervalMs: 15_000 }),
  healthz: z.strictObject({ host: text.default('127.0.0.1'), port }).optional(),

  /** Largest result sent to the hub; a bigger one is answered `too_large` (the hub's cap must match). */
  maxResultBytes: z
    .int()
    .min(64 * 1024)
    .max(64 * 1024 * 1024)
    .default(MAX_RESULT_BYTES),
  dataSources: z.record(dataSourceNameSchema, dataSourceSchema).default({}),
  allowHosts: z.array(text).default([]),
});

export type RawAgentConfig = z.output<typeof agentConfigSchema>;
export type LdapSourceConfig = z.output<typeof ldapSourceSchema>;
export type SqlSourceConfig = z.output<typeof sqlSourceSchema>;
export type ScimSourceConfig = z.output<typeof scimSourceSchema>;
