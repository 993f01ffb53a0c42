/**
 * Cross-field checks run on the raw YAML next to the zod parse, leniently, so one run lists
 * every problem: referenced files, which credentials are given, the host allow-list.
 * No message here ever includes a secret value — only paths and key names.
 */
import fs from 'node:fs';
import path from 'node:path';
import { allowEntryProblem, isHostAllowed, isLoopback } from './hosts.ts';
import { Secret } from './secret.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined);

/** Keys naming files; those in SECRET_FILE_KEYS are read (their content is a secret). */
const FILE_KEYS = new Set(['keyStore', 'certFile', 'keyFile', 'trustStore', 'ca']);
const SECRET_FILE_KEYS = new Set(['passwordFile', 'tokenFile', 'keyStorePasswordFile']);

export interface CheckOutcome {
  problems: string[];
  /** Secret file contents, by absolute path. */
  secrets: Map<string, Secret>;
}

export function crossCheck(raw: Obj, baseDir: string): CheckOutcome {
  const out: CheckOutcome = { problems: [], secrets: new Map() };
  checkFiles(raw, [], baseDir, out);
  checkHubAuth(raw, out.problems);
  checkDataSources(raw, out.problems);
  checkHealthz(raw, out.problems);
  return out;
}

export const resolvePath = (baseDir: string, p: string) => path.resolve(baseDir, p);

function checkFiles(node: unknown, at: string[], baseDir: string, out: CheckOutcome): void {
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) checkFiles(v, [...at, String(i)], baseDir, out);
    return;
  }
  if (!isObj(node)) return;
  for (const [key, value] of Object.entries(node)) {
    const here = [...at, key];
    const p = str(value);
    if (p && (FILE_KEYS.has(key) || SECRET_FILE_KEYS.has(key))) {
      const problem = fileProblem(resolvePath(baseDir, p), SECRET_FILE_KEYS.has(key), out);
      if (problem) out.problems.push(`${here.join('.')}: ${problem}`);
    } else {
      checkFiles(value, here, baseDir, out);
    }
  }
}

function fileProblem(abs: string, secret: boolean, out: CheckOutcome): string | undefined {
  try {
    if (!fs.statSync(abs).isFile()) return `not a regular file: ${abs}`;
    fs.accessSync(abs, fs.constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `file not found: ${abs}`;
    if (code === 'EACCES') return `file not readable (permission denied): ${abs}`;
    return `cannot read file ${abs} (${code ?? 'error'})`;
  }
  if (!secret) return undefined;
  const content = fs.readFileSync(abs, 'utf8').replace(/\r?\n$/, '');
  if (!content) return `file is empty: ${abs}`;
  out.secrets.set(abs, new Secret(content));
  return undefined;
}

function oneOf(o: Obj, a: string, b: string, at: string, problems: string[], required = true) {
  if (o[a] !== undefined && o[b] !== undefined) {
    problems.push(`${at}${b}: give either ${a} or ${b}, not both`);
  } else if (required && o[a] === undefined && o[b] === undefined) {
    problems.push(`${at}${a}: required (or ${b})`);
  }
}

function checkHubAuth(raw: Obj, problems: string[]): void {
  const basic =
    raw.userName !== undefined || raw.password !== undefined || raw.passwordFile !== undefined;
  const p12 = raw.keyStore !== undefined;
  const pem = raw.certFile !== undefined || raw.keyFile !== undefined;
  if (!basic && !p12 && !pem) {
    problems.push(
      '(root): no hub credentials: give userName + password, or keyStore, or certFile + keyFile',
    );
  }
  if (basic) {
    if (raw.userName === undefined) problems.push('userName: required with password/passwordFile');
    oneOf(raw, 'password', 'passwordFile', '', problems);
  }
  if (p12 && pem) problems.push('keyStore: give either keyStore or certFile + keyFile, not both');
  if (pem && (raw.certFile === undefined || raw.keyFile === undefined)) {
    problems.push(
      `${raw.certFile === undefined ? 'certFile' : 'keyFile'}: certFile and keyFile go together`,
    );
  }
  oneOf(raw, 'keyStorePassword', 'keyStorePasswordFile', '', problems, false);
}

function checkDataSources(raw: Obj, problems: string[]): void {
  const allow = Array.isArray(raw.allowHosts)
    ? raw.allowHosts.filter((h) => typeof h === 'string')
    : [];
  (Array.isArray(raw.allowHosts) ? raw.allowHosts : []).forEach((h, i) => {
    const problem = typeof h === 'string' ? allowEntryProblem(h) : undefined;
    if (problem) problems.push(`allowHosts.${i}: ${problem}`);
  });
  if (!isObj(raw.dataSources)) return;
  for (const [name, ds] of Object.entries(raw.dataSources)) {
    if (!isObj(ds)) continue;
    const at = `dataSources.${name}.`;
    if (ds.type === 'ldap') {
      oneOf(ds, 'password', 'passwordFile', at, problems);
      const startTls = isObj(ds.tls) && ds.tls.startTls === true;
      if (startTls && str(ds.url)?.startsWith('ldaps:')) {
        problems.push(`${at}tls.startTls: StartTLS is for ldap:// URLs; ldaps:// is already TLS`);
      }
    }
    if (ds.type === 'scim' && isObj(ds.auth)) {
      if (ds.auth.type === 'bearer') oneOf(ds.auth, 'token', 'tokenFile', `${at}auth.`, problems);
      if (ds.auth.type === 'basic')
        oneOf(ds.auth, 'password', 'passwordFile', `${at}auth.`, problems);
    }
    const key = ds.type === 'scim' ? 'baseUrl' : 'url';
    const url = str(ds[key]);
    if (url && URL.canParse(url) && !isHostAllowed(allow, url)) {
      problems.push(`${at}${key}: host "${new URL(url).host}" is not in allowHosts`);
    }
  }
}

function checkHealthz(raw: Obj, problems: string[]): void {
  if (!isObj(raw.healthz)) return;
  const host = str(raw.healthz.host);
  if (host && !isLoopback(host)) {
    problems.push(
      `healthz.host: must be a loopback address (127.0.0.1, ::1, localhost), not "${host}"`,
    );
  }
}
