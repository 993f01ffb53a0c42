import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pkcs12Error, pkcs12Certificates } from './pkcs12.ts';

let dir: string;
let caPem: string;
const at = (f: string) => path.join(dir, f);
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A certificates-only PKCS#12 made by `openssl pkcs12 -export` with extra options. */
function trustStore(name: string, ...options: string[]): Buffer {
  ssl(
    'pkcs12',
    '-export',
    '-nokeys',
    '-in',
    'ca.pem',
    '-out',
    name,
    '-passout',
    'pass:changeit',
    ...options,
  );
  return fs.readFileSync(at(name));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idhub-p12-'));
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=p12 test CA',
  );
  caPem = fs.readFileSync(at('ca.pem'), 'utf8');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('pkcs12Certificates', () => {
  it.each([
    ['PBES2 / AES-256 (OpenSSL 3 default)', []],
    ['PBE-SHA1-3DES', ['-certpbe', 'PBE-SHA1-3DES']],
    ['unencrypted bags', ['-certpbe', 'NONE']],
    ['SHA-1 MAC', ['-macalg', 'sha1']],
  ])('reads %s', (_name, options) => {
    expect(pkcs12Certificates(trustStore('t.p12', ...options), 'changeit')).toEqual([caPem]);
  });

  it('reads a Java keytool trust store', () => {
    if (spawnSync('keytool', ['-help']).error) return; // no JDK here
    execFileSync(
      'keytool',
      [
        '-importcert',
        '-noprompt',
        '-alias',
        'ca',
        '-file',
        'ca.pem',
        '-keystore',
        'java.p12',
        '-storetype',
        'PKCS12',
        '-storepass',
        'changeit',
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    expect(pkcs12Certificates(fs.readFileSync(at('java.p12')), 'changeit')).toEqual([caPem]);
  });

  it('reads the chain of a key store, ignoring the key', () => {
    ssl(
      'pkcs12',
      '-export',
      '-inkey',
      'ca.key',
      '-in',
      'ca.pem',
      '-out',
      'ks.p12',
      '-passout',
      'pass:x',
    );
    expect(pkcs12Certificates(fs.readFileSync(at('ks.p12')), 'x')).toEqual([caPem]);
  });

  it('refuses a wrong password', () => {
    expect(() => pkcs12Certificates(trustStore('t.p12'), 'nope')).toThrow(/integrity check failed/);
  });

  it('refuses legacy RC2 with a hint to convert to PEM', () => {
    let legacy: Buffer;
    try {
      legacy = trustStore('legacy.p12', '-legacy');
    } catch {
      return; // this openssl has no legacy provider
    }
    expect(() => pkcs12Certificates(legacy, 'changeit')).toThrow(
      /not supported.*convert it to PEM/,
    );
  });

  it('refuses a file that is not PKCS#12', () => {
    expect(() => pkcs12Certificates(Buffer.from(caPem))).toThrow(Pkcs12Error);
    expect(() => pkcs12Certificates(Buffer.from([0x30, 0x80, 0, 0]))).toThrow(/indefinite/);
  });
});
