/**
 * Secrets (passwords, tokens, file contents) travel wrapped so that logging, JSON or
 * `util.inspect` of a config can never print them; only `reveal()` hands out the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${REDACTED})`;
  }
}

export const REDACTED = '[redacted]';
const SECRET_KEY = /pass(word|phrase)?$|secret|token|privatekey|credential/i;

/** Replaces `user:password@` in a URL with the password redacted; leaves non-URLs alone. */
export function redactUrl(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, `$1:${REDACTED}@`);
}

/**
 * A copy of `value` safe for logs: Secret instances and secret-looking keys redacted,
 * credentials in URLs stripped. Paths to files are kept (they help; their contents don't).
 */
export function redact(value: unknown): unknown {
  if (value instanceof Secret) return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && !k.endsWith('File') && v != null ? REDACTED : redact(v);
    }
    return out;
  }
  return value;
}
