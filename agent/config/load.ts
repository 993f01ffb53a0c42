import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type CheckOutcome, crossCheck, resolvePath } from './checks.ts';
import {
  agentConfigSchema,
  type LdapSourceConfig,
  type RawAgentConfig,
  type ScimSourceConfig,
  type SqlSourceConfig,
} from './schema.ts';
import { Secret } from './secret.ts';

/** How the agent proves itself to the hub. A client certificate wins over basic credentials. */
export type AgentAuth =
  | { kind: 'pkcs12'; keyStore: string; passphrase?: Secret }
  | { kind: 'pem'; certFile: string; keyFile: string; passphrase?: Secret }
  | { kind: 'basic'; userName: string; password: Secret };

export type DataSourceConfig =
  | (Omit<LdapSourceConfig, 'password' | 'passwordFile'> & { password: Secret })
  | (Omit<SqlSourceConfig, 'passwordFile' | 'key'> & { key: string[]; password?: Secret })
  | (Omit<ScimSourceConfig, 'auth'> & {
      auth:
        | { type: 'bearer'; token: Secret }
        | { type: 'basic'; userName: string; password: Secret };
    });

export interface AgentConfig {
  /** Absolute path of the file read; relative file references resolve against its folder. */
  configPath: string;
  /** Hub base URLs, without a trailing slash. One stream per URL, one hub. */
  urls: string[];
  tenantId: string;
  auth: AgentAuth;
  trustStore?: { kind: 'pem' | 'pkcs12'; path: string; password?: Secret };
  reconnectDelay: RawAgentConfig['reconnectDelay'];
  keepAlive: RawAgentConfig['keepAlive'];
  healthz?: { host: string; port: number };
  dataSources: Record<string, DataSourceConfig>;
  allowHosts: string[];
  maxResultBytes: number;
}

export class AgentConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid agent configuration ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentConfigError';
  }
}

/**
 * Reads and validates application.yaml, throwing AgentConfigError with every problem listed
 * (`path: message`). Secret files are read here; their contents appear only inside Secret.
 */
export function loadAgentConfig(file: string): AgentConfig {
  const configPath = path.resolve(file);
  let source: string;
  try {
    source = fs.readFileSync(configPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AgentConfigError(configPath, [`cannot read the file (${code ?? 'error'})`]);
  }
  const doc = parseDocument(source, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    // Messages only, never the source excerpt: the line may hold a password.
    throw new AgentConfigError(
      configPath,
      doc.errors.map((e) => `line ${lineOf(source, e.pos[0])}: ${e.message.split('\n')[0]}`),
    );
  }
  const raw: unknown = doc.toJS();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgentConfigError(configPath, ['(root): must be a YAML mapping of settings']);
  }
  const parsed = agentConfigSchema.safeParse(raw);
  const checked = crossCheck(raw as Record<string, unknown>, path.dirname(configPath));
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map(describeIssue)),
    ...checked.problems,
  ];
  if (!parsed.success || problems.length) throw new AgentConfigError(configPath, problems);
  return resolve(parsed.data, configPath, checked);
}

/** `path: message`; a bad record key says what a key must look like. */
function describeIssue(i: z.core.$ZodIssue): string {
  const at = i.path.join('.') || '(root)';
  if (i.code === 'invalid_key')
    return `${at}: bad name: ${i.issues.map((k) => k.message).join('; ')}`;
  return `${at}: ${i.message}`;
}

const lineOf = (source: string, offset: number) => source.slice(0, offset).split('\n').length;

function resolve(c: RawAgentConfig, configPath: string, checked: CheckOutcome): AgentConfig {
  const dir = path.dirname(configPath);
  const abs = (p: string) => resolvePath(dir, p);
  const secret = (inline?: string, file?: string): Secret | undefined =>
    inline !== undefined ? new Secret(inline) : file ? checked.secrets.get(abs(file)) : undefined;
  const required = (s: Secret | undefined) => s as Secret; // presence proven by crossCheck

  const passphrase = secret(c.keyStorePassword, c.keyStorePasswordFile);
  let auth: AgentAuth;
  if (c.keyStore) auth = { kind: 'pkcs12', keyStore: abs(c.keyStore), passphrase };
  else if (c.certFile && c.keyFile) {
    auth = { kind: 'pem', certFile: abs(c.certFile), keyFile: abs(c.keyFile), passphrase };
  } else {
    auth = {
      kind: 'basic',
      userName: c.userName ?? '',
      password: required(secret(c.password, c.passwordFile)),
    };
  }

  const dataSources: Record<string, DataSourceConfig> = {};
  for (const [name, ds] of Object.entries(c.dataSources)) {
    if (ds.type === 'ldap') {
      const { password, passwordFile, ...rest } = ds;
      const tls = { ...rest.tls, ca: rest.tls.ca && abs(rest.tls.ca) };
      dataSources[name] = { ...rest, tls, password: required(secret(password, passwordFile)) };
    } else if (ds.type === 'sql') {
      const { passwordFile, key, ...rest } = ds;
      dataSources[name] = {
        ...rest,
        key: Array.isArray(key) ? key : [key],
        password: secret(undefined, passwordFile),
      };
    } else {
      const a = ds.auth;
      const tls = ds.tls && { ca: ds.tls.ca && abs(ds.tls.ca) };
      const auth =
        a.type === 'bearer'
          ? { type: 'bearer' as const, token: required(secret(a.token, a.tokenFile)) }
          : {
              type: 'basic' as const,
              userName: a.userName,
              password: required(secret(a.password, a.passwordFile)),
            };
      dataSources[name] = { ...ds, baseUrl: ds.baseUrl.replace(/\/+$/, ''), auth, tls };
    }
  }

  const trustStore = c.trustStore
    ? {
        kind: /\.(p12|pfx)$/i.test(c.trustStore) ? ('pkcs12' as const) : ('pem' as const),
        path: abs(c.trustStore),
        password: secret(c.trustStorePassword),
      }
    : undefined;

  return {
    configPath,
    urls: c.urls.map((u) => u.replace(/\/+$/, '')),
    tenantId: c.tenantId,
    auth,
    trustStore,
    reconnectDelay: c.reconnectDelay,
    keepAlive: c.keepAlive,
    healthz: c.healthz,
    dataSources,
    allowHosts: c.allowHosts,
    maxResultBytes: c.maxResultBytes,
  };
}
