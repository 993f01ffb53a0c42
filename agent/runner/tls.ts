/**
 * TLS options for the hub connection: the client certificate (PKCS#12 or PEM) and the trust
 * store. Loaded and checked once at start so a wrong passphrase or a bad file stops the agent
 * with a readable AgentConfigError instead of failing every reconnect.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { type AgentConfig, AgentConfigError } from '../config/index.ts';
import { pkcs12Certificates } from './pkcs12.ts';

export type HubTlsOptions = Pick<
  tls.SecureContextOptions,
  'pfx' | 'cert' | 'key' | 'passphrase' | 'ca'
>;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Reads the key store and trust store named in `config`; throws AgentConfigError listing every problem. */
export function loadHubTls(
  config: Pick<AgentConfig, 'configPath' | 'auth' | 'trustStore'>,
): HubTlsOptions {
  const problems: string[] = [];
  const opts: HubTlsOptions = {};
  const { auth, trustStore } = config;
  try {
    if (auth.kind === 'pkcs12') {
      opts.pfx = fs.readFileSync(auth.keyStore);
      opts.passphrase = auth.passphrase?.reveal();
    } else if (auth.kind === 'pem') {
      opts.cert = fs.readFileSync(auth.certFile);
      opts.key = fs.readFileSync(auth.keyFile);
      opts.passphrase = auth.passphrase?.reveal();
    }
    if (auth.kind !== 'basic') tls.createSecureContext(opts);
  } catch (e) {
    const at = auth.kind === 'pkcs12' ? 'keyStore' : 'certFile';
    problems.push(
      `${at}: cannot load the client certificate (${reason(e)}); check the file and keyStorePassword`,
    );
  }
  if (trustStore) {
    try {
      opts.ca = readTrustStore(trustStore);
    } catch (e) {
      problems.push(`trustStore: ${reason(e)}`);
    }
  }
  if (problems.length) throw new AgentConfigError(config.configPath, problems);
  return opts;
}

/** PEM certificates of the trust store; they replace Node's default roots for the hub. */
function readTrustStore(store: NonNullable<AgentConfig['trustStore']>): string[] {
  const bytes = fs.readFileSync(store.path);
  if (store.kind === 'pkcs12') {
    const certs = pkcs12Certificates(bytes, store.password?.reveal() ?? '');
    if (!certs.length) throw new Error('the PKCS#12 file holds no certificate');
    return certs;
  }
  const certs = bytes.toString('utf8').match(PEM_CERT) ?? [];
  if (!certs.length)
    throw new Error('no PEM certificate (-----BEGIN CERTIFICATE-----) in the file');
  // Node ignores unparsable CA text silently; parsing here turns that into a start-up error.
  for (const pem of certs) new X509Certificate(pem);
  return certs;
}

/** An error's message only: OpenSSL and our parsers never include key or password bytes. */
const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));
