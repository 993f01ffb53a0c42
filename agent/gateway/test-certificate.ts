// Test-only (imported by *.int.test.ts): a throwaway client certificate made with openssl.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** A self-signed P-256 certificate (PEM), as an agent's client certificate. */
export async function selfSignedPem(cn = 'agent'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-cert-'));
  try {
    const out = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    await promisify(execFile)('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-subj', `/CN=${cn}`, '-days', '2', '-keyout', key, '-out', out],
    ]);
    return await readFile(out, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
