/** A throwaway PKI made with the openssl CLI: CA, hub (server) certificate, agent (client) certificate. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Pki {
  dir: string;
  caPem: string;
  serverKey: string;
  serverCert: string;
  /** Client certificate and key (the key encrypted with `keyPassphrase`). */
  clientCert: string;
  clientKeyEncrypted: string;
  keyPassphrase: string;
  /** Client certificate + key as PKCS#12, password `keyStorePassword`. */
  clientP12: string;
  keyStorePassword: string;
  /** The CA as a PKCS#12 trust store (certificates only), password `trustStorePassword`. */
  trustP12: string;
  trustStorePassword: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function makePki(dir: string): Pki {
  const at = (f: string) => path.join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=idhub test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const issue = (name: string, cn: string, ext: string) => {
    fs.writeFileSync(at(`${name}.ext`), ext);
    ssl('req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', 'agent-1', 'extendedKeyUsage=clientAuth\n');
  const pki = {
    dir,
    caPem: at('ca.pem'),
    serverKey: at('server.key'),
    serverCert: at('server.pem'),
    clientCert: at('client.pem'),
    clientKeyEncrypted: at('client.enc.key'),
    keyPassphrase: 'key-pass',
    clientP12: at('client.p12'),
    keyStorePassword: 'store-pass',
    trustP12: at('trust.p12'),
    trustStorePassword: 'changeit',
  };
  ssl(
    'pkey',
    '-in',
    'client.key',
    '-aes256',
    '-passout',
    `pass:${pki.keyPassphrase}`,
    '-out',
    'client.enc.key',
  );
  ssl(
    'pkcs12',
    '-export',
    '-inkey',
    'client.key',
    '-in',
    'client.pem',
    '-out',
    'client.p12',
    '-passout',
    `pass:${pki.keyStorePassword}`,
  );
  ssl(
    'pkcs12',
    '-export',
    '-nokeys',
    '-in',
    'ca.pem',
    '-out',
    'trust.p12',
    '-passout',
    `pass:${pki.trustStorePassword}`,
  );
  return pki;
}
