/**
 * RFC 4514 distinguished names: escaping attribute values, building RDNs / DNs, and parsing a
 * DN string into RDNs with escapes decoded. Every DN the agent builds goes through here.
 */

export class DnSyntaxError extends Error {
  readonly code = 'invalid_dn';
  constructor(message: string) {
    super(message);
    this.name = 'DnSyntaxError';
  }
}

/** One attribute-type-and-value of an RDN, value unescaped. */
export interface Ava {
  type: string;
  value: string;
}
/** An RDN: one or more AVAs joined by `+`. */
export type Rdn = Ava[];

const SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';', '=']);

/** Escapes one attribute value for use in a DN string (RFC 4514 §2.4). */
export function escapeDnValue(value: string): string {
  let out = '';
  const chars = Array.from(value);
  chars.forEach((ch, i) => {
    if (ch === '\0') out += '\\00';
    else if (SPECIAL.has(ch)) out += `\\${ch}`;
    else if (i === 0 && (ch === ' ' || ch === '#')) out += `\\${ch}`;
    else if (i === chars.length - 1 && ch === ' ') out += '\\ ';
    else out += ch;
  });
  return out;
}

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$/;

function checkType(type: string): string {
  if (!TYPE.test(type)) throw new DnSyntaxError(`invalid attribute type: ${JSON.stringify(type)}`);
  return type;
}

/** Builds an RDN string from `{ type: value }` pairs (multi-valued RDNs joined with `+`). */
export function rdn(...avas: Ava[]): string {
  if (avas.length === 0) throw new DnSyntaxError('an RDN needs at least one attribute');
  return avas.map((a) => `${checkType(a.type)}=${escapeDnValue(a.value)}`).join('+');
}

/** Prepends an escaped RDN to an existing (already valid) parent DN. */
export function childDn(avas: Ava | Ava[], parentDn: string): string {
  const first = rdn(...(Array.isArray(avas) ? avas : [avas]));
  return parentDn === '' ? first : `${first},${parentDn}`;
}

/** Serialises parsed RDNs back into a DN string (canonical escaping). */
export function formatDn(rdns: Rdn[]): string {
  return rdns.map((r) => rdn(...r)).join(',');
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Parses a DN string into RDNs, decoding `\X` and `\HH` escapes (UTF-8 aware). */
export function parseDn(dn: string): Rdn[] {
  if (dn.trim() === '') return [];
  const p = new Parser(dn);
  const rdns: Rdn[] = [p.rdn()];
  while (!p.done()) {
    const sep = p.next();
    if (sep !== ',' && sep !== ';') throw new DnSyntaxError(`expected ',' at ${p.pos - 1}`);
    rdns.push(p.rdn());
  }
  return rdns;
}

/** Compares two DNs after parsing: attribute types case-insensitively, values exactly. */
export function dnEquals(a: string, b: string): boolean {
  return normalizeDn(a) === normalizeDn(b);
}

/** A comparison key: lower-cased types, values re-escaped canonically, AVAs sorted in an RDN. */
export function normalizeDn(dn: string): string {
  return parseDn(dn)
    .map((r) =>
      r
        .map((a) => `${a.type.toLowerCase()}=${escapeDnValue(a.value)}`)
        .sort()
        .join('+'),
    )
    .join(',');
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.pos >= this.s.length;
  }
  next(): string | undefined {
    return this.s[this.pos++];
  }
  private skipSpaces(): void {
    while (this.s[this.pos] === ' ') this.pos++;
  }

  rdn(): Rdn {
    const avas: Rdn = [this.ava()];
    while (this.s[this.pos] === '+') {
      this.pos++;
      avas.push(this.ava());
    }
    return avas;
  }

  private ava(): Ava {
    this.skipSpaces();
    const eq = this.s.indexOf('=', this.pos);
    if (eq < 0) throw new DnSyntaxError(`missing '=' after position ${this.pos}`);
    const type = checkType(this.s.slice(this.pos, eq).trim());
    this.pos = eq + 1;
    const value = this.s[this.pos] === '#' ? this.hexValue() : this.stringValue();
    this.skipSpaces();
    return { type, value };
  }

  /** `#` followed by BER hex: kept as the literal `#hex` text (we never need to decode BER). */
  private hexValue(): string {
    const start = this.pos++;
    while (this.pos < this.s.length && /[0-9A-Fa-f]/.test(this.s[this.pos] ?? '')) this.pos++;
    return this.s.slice(start, this.pos);
  }

  private stringValue(): string {
    const bytes: number[] = [];
    let trailingUnescapedSpaces = 0;
    while (!this.done()) {
      const ch = this.s[this.pos] ?? '';
      if (ch === ',' || ch === ';' || ch === '+') break;
      if (ch === '\\') {
        this.pos++;
        const pair = this.s.slice(this.pos, this.pos + 2);
        if (HEX.test(pair)) {
          bytes.push(Number.parseInt(pair, 16));
          this.pos += 2;
        } else {
          const esc = this.s.codePointAt(this.pos);
          if (esc === undefined) throw new DnSyntaxError('dangling escape at end of DN');
          const text = String.fromCodePoint(esc);
          bytes.push(...Buffer.from(text, 'utf8'));
          this.pos += text.length;
        }
        trailingUnescapedSpaces = 0;
        continue;
      }
      if (ch === '"' || ch === '<' || ch === '>' || ch === '=' || ch === '\0') {
        throw new DnSyntaxError(`unescaped ${JSON.stringify(ch)} at ${this.pos}`);
      }
      const cp = this.s.codePointAt(this.pos) ?? 0;
      const text = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(text, 'utf8'));
      this.pos += text.length;
      trailingUnescapedSpaces = ch === ' ' ? trailingUnescapedSpaces + 1 : 0;
    }
    const end = bytes.length - trailingUnescapedSpaces;
    const decoded = new TextDecoder('utf-8', { fatal: true });
    try {
      return decoded.decode(Uint8Array.from(bytes.slice(0, end)));
    } catch {
      throw new DnSyntaxError('escaped bytes are not valid UTF-8');
    }
  }
}
