import fs from 'node:fs';

/** Replaced with package.json's version by agent/build.mjs (esbuild `define`). */
declare const __IDHUB_AGENT_VERSION__: string | undefined;

/** The agent's version: baked into the bundle, read from package.json when run from source. */
export function agentVersion(): string {
  if (typeof __IDHUB_AGENT_VERSION__ === 'string') return __IDHUB_AGENT_VERSION__;
  const pkg: unknown = JSON.parse(
    fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  );
  const version = (pkg as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}
