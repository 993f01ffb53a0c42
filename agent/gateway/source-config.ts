/**
 * Rules for a data source's stored `config`, by mode. A direct data source (the hub connects
 * itself) must hold a complete connector config, secrets included. An agent-enabled one may
 * hold non-secret settings only: its secrets stay in the agent's application.yaml.
 */
import { REDACTED, redactUrl } from '../config/index.ts';
import { type DataSourceKind, parseDirectDataSource, secretKeysIn } from '../connectors/direct.ts';

export type { DataSourceKind };
export const dataSourceKinds = ['ldap', 'sql', 'scim'] as const satisfies DataSourceKind[];

/** A config is settings, not a payload: this bounds what one admin call can store. */
export const MAX_CONFIG_BYTES = 64 * 1024;

/** Problems with `config` for a data source of this kind and mode; empty when it is fine. */
export function checkDataSourceConfig(
  kind: DataSourceKind,
  name: string,
  agentEnabled: boolean,
  config: Record<string, unknown>,
): string[] {
  const bytes = Buffer.byteLength(JSON.stringify(config));
  if (bytes > MAX_CONFIG_BYTES) return [`is ${bytes} bytes, over the ${MAX_CONFIG_BYTES} cap`];
  if (agentEnabled) {
    return secretKeysIn(config).map(
      (path) => `${path}: secrets stay in the agent's application.yaml`,
    );
  }
  const parsed = parseDirectDataSource(kind, config, name);
  return [
    ...(parsed.ok ? [] : parsed.problems),
    ...placeholdersIn(config).map((path) => `${path}: give the secret itself, not "${REDACTED}"`),
  ];
}

/** Paths still holding the redaction placeholder (nothing was stored behind it). */
function placeholdersIn(value: unknown, at: string[] = []): string[] {
  if (typeof value === 'string') return value.includes(REDACTED) ? [at.join('.')] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => placeholdersIn(v, [...at, String(i)]));
  if (!isObj(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => placeholdersIn(v, [...at, k]));
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `next` with every redacted value (as GraphQL showed it) replaced by the stored value at
 * the same place, so a config read, edited and sent back keeps its secrets. A redacted
 * value with nothing stored behind it stays as sent (and validation then refuses it).
 */
export function keepRedactedSecrets(
  next: Record<string, unknown>,
  stored: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(next)) out[key] = keep(value, stored[key]);
  return out;
}

function keep(value: unknown, stored: unknown): unknown {
  if (isObj(value)) return keepRedactedSecrets(value, isObj(stored) ? stored : {});
  if (typeof value !== 'string' || typeof stored !== 'string') return value;
  if (value === REDACTED) return stored;
  // A URL whose password was redacted, otherwise unchanged.
  return value.includes(REDACTED) && redactUrl(stored) === value ? stored : value;
}
