/**
 * The host allow-list: the agent touches no host that is not listed, whatever the hub asks.
 * Entries are `host`, `host:port`, `*.domain` (any subdomain, not the domain itself), IPv4 or
 * `[IPv6]`, optionally with `:port`. Matching is on the URL's hostname and effective port.
 */
import net from 'node:net';

export class HostNotAllowedError extends Error {
  /** The protocol error code the agent answers with. */
  readonly code = 'refused' as const;
  constructor(readonly host: string) {
    super(`host "${host}" is not in allowHosts`);
    this.name = 'HostNotAllowedError';
  }
}

const DEFAULT_PORTS: Record<string, number> = {
  'http:': 80,
  'https:': 443,
  'ldap:': 389,
  'ldaps:': 636,
  'postgres:': 5432,
  'postgresql:': 5432,
};

const ENTRY = /^(\*\.)?([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/i;

/** Why an allow-list entry is malformed, or undefined when it is fine. */
export function allowEntryProblem(entry: string): string | undefined {
  const m = ENTRY.exec(entry.trim());
  if (!m) return 'must be a host name, IP, [IPv6] or *.domain, with an optional :port';
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return 'bad port';
  if (m[1] && m[2]?.startsWith('[')) return 'a wildcard needs a domain, not an IP';
  return undefined;
}

function hostPort(url: URL): { host: string; port: number | undefined } {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
  return { host, port };
}

/** True when `url` (string or URL) names a host and port the list allows. */
export function isHostAllowed(allowHosts: readonly string[], url: string | URL): boolean {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  const { host, port } = hostPort(parsed);
  if (!host) return false;
  return allowHosts.some((raw) => {
    const m = ENTRY.exec(raw.trim());
    if (!m?.[2]) return false;
    if (m[3] !== undefined && Number(m[3]) !== port) return false;
    const name = m[2].toLowerCase().replace(/\.$/, '');
    if (m[1]) return !net.isIP(host) && host.endsWith(`.${name}`);
    return host === name;
  });
}

/** Throws HostNotAllowedError (code `refused`) unless `url` is allowed. Call before connecting. */
export function assertHostAllowed(config: { allowHosts: readonly string[] }, url: string | URL) {
  if (isHostAllowed(config.allowHosts, url)) return;
  let host = String(url);
  try {
    host = (typeof url === 'string' ? new URL(url) : url).host;
  } catch {
    // keep the raw text: it is not a URL, so it holds no credentials to hide
  }
  throw new HostNotAllowedError(host);
}

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost']);

/** Loopback only: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(h)) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}
