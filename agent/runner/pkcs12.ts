/**
 * Reads the certificates out of a PKCS#12 trust store. Node's TLS takes a PKCS#12 file only as
 * the client's own key + certificate (`pfx`), and a trust store holds certificates without a
 * key, so the agent extracts them and passes them as `ca`. Supported: unencrypted bags, PBES2
 * (PBKDF2 + AES/3DES — the OpenSSL 3 and Java 17+ default) and PBE-SHA1-3DES; the integrity
 * MAC is verified. Legacy RC2 is refused with a hint to convert the file to PEM.
 */
import {
  createDecipheriv,
  createHmac,
  pbkdf2Sync,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import { children, DerError, expect, int, oid, readTlv, Tag, type Tlv } from './der.ts';
import { pkcs12Kdf } from './pkcs12-kdf.ts';

export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
} as const;

const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const PRFS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};

const TO_PEM = 'convert it to PEM: openssl pkcs12 -in <file> -nokeys -out trust.pem';

/** The certificates of a PKCS#12 file, as PEM strings. Throws Pkcs12Error with a readable reason. */
export function pkcs12Certificates(file: Buffer, password = ''): string[] {
  try {
    const [version, authSafe, macData] = children(expect(readTlv(file), Tag.sequence, 'PFX'));
    if (int(version) !== 3) throw new Pkcs12Error('not a PKCS#12 v3 file');
    const data = contentData(authSafe);
    if (macData) verifyMac(macData, data, password);
    const certs: string[] = [];
    for (const info of children(readTlv(data))) collectCerts(safeContents(info, password), certs);
    return certs;
  } catch (e) {
    if (e instanceof DerError) throw new Pkcs12Error(`not a readable PKCS#12 file (${e.message})`);
    throw e;
  }
}

/** The OCTET STRING inside a `data` ContentInfo. */
function contentData(info: Tlv | undefined): Buffer {
  const [type, content] = children(expect(info, Tag.sequence, 'ContentInfo'));
  if (oid(type) !== OID.data) throw new Pkcs12Error('authSafe is not plain data (public-key mode)');
  return expect(children(expect(content, Tag.context0, 'content'))[0], Tag.octetString, 'data')
    .value;
}

function safeContents(info: Tlv, password: string): Buffer {
  const type = oid(children(info)[0]);
  if (type === OID.data) return contentData(info);
  if (type !== OID.encryptedData) throw new Pkcs12Error(`unsupported content type ${type}`);
  const encrypted = children(expect(children(info)[1], Tag.context0, 'content'))[0];
  const [, encInfo] = children(expect(encrypted, Tag.sequence, 'EncryptedData'));
  const [, alg, body] = children(expect(encInfo, Tag.sequence, 'EncryptedContentInfo'));
  if (!body) return Buffer.alloc(0);
  const ciphertext =
    body.tag === Tag.context0 ? Buffer.concat(children(body).map((c) => c.value)) : body.value;
  return decrypt(expect(alg, Tag.sequence, 'AlgorithmIdentifier'), ciphertext, password);
}

function decrypt(alg: Tlv, ciphertext: Buffer, password: string): Buffer {
  const [algOid, params] = children(alg);
  const type = oid(algOid);
  let cipher: { name: string; key: Buffer; iv: Buffer };
  if (type === OID.pbes2) cipher = pbes2(expect(params, Tag.sequence, 'PBES2-params'), password);
  else if (type === OID.pbeSha1TripleDes) {
    const [salt, iterations] = children(expect(params, Tag.sequence, 'pbe-params'));
    const kdf = (id: number, n: number) =>
      pkcs12Kdf(
        'sha1',
        bmpPassword(password),
        expect(salt, Tag.octetString, 'salt').value,
        id,
        int(iterations),
        n,
      );
    cipher = { name: 'des-ede3-cbc', key: kdf(1, 24), iv: kdf(2, 8) };
  } else {
    throw new Pkcs12Error(`encryption ${type} is not supported (legacy RC2?); ${TO_PEM}`);
  }
  try {
    const d = createDecipheriv(cipher.name, cipher.key, cipher.iv);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch {
    throw new Pkcs12Error('cannot decrypt (wrong password?)');
  }
}

function pbes2(params: Tlv, password: string): { name: string; key: Buffer; iv: Buffer } {
  const [kdf, scheme] = children(params);
  const [kdfOid, kdfParams] = children(expect(kdf, Tag.sequence, 'keyDerivationFunc'));
  if (oid(kdfOid) !== OID.pbkdf2) throw new Pkcs12Error('PBES2 key derivation is not PBKDF2');
  const [salt, iterations, ...rest] = children(expect(kdfParams, Tag.sequence, 'PBKDF2-params'));
  const prf = rest.find((t) => t.tag === Tag.sequence);
  const hash = prf ? PRFS[oid(children(prf)[0])] : 'sha1';
  const [encOid, iv] = children(expect(scheme, Tag.sequence, 'encryptionScheme'));
  const spec = CIPHERS[oid(encOid)];
  if (!hash || !spec) throw new Pkcs12Error(`unsupported PBES2 parameters; ${TO_PEM}`);
  const saltBytes = expect(salt, Tag.octetString, 'salt').value;
  const key = pbkdf2Sync(
    Buffer.from(password, 'utf8'),
    saltBytes,
    int(iterations),
    spec.keyLength,
    hash,
  );
  return { name: spec.name, key, iv: expect(iv, Tag.octetString, 'iv').value };
}

function collectCerts(contents: Buffer, out: string[]): void {
  for (const bag of children(expect(readTlv(contents), Tag.sequence, 'SafeContents'))) {
    const [bagId, wrapped] = children(bag);
    const value = children(expect(wrapped, Tag.context0, 'bagValue'))[0];
    const type = oid(bagId);
    if (type === OID.safeContentsBag && value) collectCerts(Buffer.from(value.raw), out);
    if (type !== OID.certBag) continue; // keys and CRLs are not trust anchors
    const [certId, certValue] = children(expect(value, Tag.sequence, 'CertBag'));
    if (oid(certId) !== OID.x509Certificate) continue;
    const der = expect(
      children(expect(certValue, Tag.context0, 'certValue'))[0],
      Tag.octetString,
      'cert',
    );
    out.push(new X509Certificate(der.value).toString());
  }
}

function verifyMac(macData: Tlv, data: Buffer, password: string): void {
  const [digestInfo, salt, iterations] = children(expect(macData, Tag.sequence, 'MacData'));
  const [alg, digest] = children(expect(digestInfo, Tag.sequence, 'DigestInfo'));
  const hash = HASHES[oid(children(expect(alg, Tag.sequence, 'digestAlgorithm'))[0])];
  if (!hash) throw new Pkcs12Error(`unsupported MAC algorithm; ${TO_PEM}`);
  const expected = expect(digest, Tag.octetString, 'digest').value;
  const saltBytes = expect(salt, Tag.octetString, 'macSalt').value;
  const rounds = iterations ? int(iterations) : 1;
  // OpenSSL accepts an empty password encoded either as BMP "" or as no bytes at all.
  const candidates = password ? [bmpPassword(password)] : [bmpPassword(''), Buffer.alloc(0)];
  const ok = candidates.some((pw) => {
    const key = pkcs12Kdf(hash, pw, saltBytes, 3, rounds, expected.length);
    const mac = createHmac(hash, key).update(data).digest();
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  });
  if (!ok) throw new Pkcs12Error('integrity check failed (wrong password or damaged file)');
}

/** UTF-16BE with a two-byte terminator, as RFC 7292 B.1 encodes passwords for its KDF. */
const bmpPassword = (password: string) => Buffer.from(`${password}\0`, 'utf16le').swap16();
