/**
 * A minimal DER reader: just enough ASN.1 to walk a PKCS#12 file (pkcs12.ts). Definite
 * lengths only; BER indefinite lengths are refused with a message saying so.
 */

export interface Tlv {
  tag: number;
  /** The content octets (without tag and length). */
  value: Buffer;
  /** The whole encoding, tag and length included. */
  raw: Buffer;
}

export class DerError extends Error {
  override name = 'DerError';
}

export const Tag = {
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
  set: 0x31,
  /** [0] constructed (EXPLICIT, or IMPLICIT of a constructed type). */
  context0: 0xa0,
  /** [0] primitive (IMPLICIT OCTET STRING). */
  context0Primitive: 0x80,
} as const;

/** Reads the TLV at `offset`. */
export function readTlv(buf: Buffer, offset = 0): Tlv {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined) throw new DerError('truncated DER');
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0) throw new DerError('indefinite (BER) lengths are not supported');
    if (n > 4) throw new DerError('DER length too large');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] ?? Number.NaN);
    header += n;
  }
  const end = offset + header + length;
  if (!Number.isFinite(length) || end > buf.length) throw new DerError('truncated DER');
  return { tag, value: buf.subarray(offset + header, end), raw: buf.subarray(offset, end) };
}

/** The TLVs inside a constructed value. */
export function children(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < tlv.value.length; ) {
    const child = readTlv(tlv.value, at);
    out.push(child);
    at += child.raw.length;
  }
  return out;
}

/** Reads `tlv`, checking its tag, and returns it (for chaining with children()). */
export function expect(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  }
  return tlv;
}

/** Dotted text of an OBJECT IDENTIFIER. */
export function oid(tlv: Tlv | undefined): string {
  const v = expect(tlv, Tag.oid, 'OBJECT IDENTIFIER').value;
  const first = v[0] ?? 0;
  const arcs = [
    Math.min(2, Math.floor(first / 40)),
    first - Math.min(2, Math.floor(first / 40)) * 40,
  ];
  let n = 0;
  for (const byte of v.subarray(1)) {
    n = n * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(n);
      n = 0;
    }
  }
  return arcs.join('.');
}

/** A small non-negative INTEGER (iteration counts, versions, key lengths). */
export function int(tlv: Tlv | undefined): number {
  const v = expect(tlv, Tag.integer, 'INTEGER').value;
  if (v.length > 6 || (v[0] ?? 0) & 0x80) throw new DerError('INTEGER out of range');
  return v.reduce((n, b) => n * 256 + b, 0);
}
