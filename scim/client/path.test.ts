import { describe, expect, it } from 'vitest';
import { parseRetryAfter, ScimClientError } from './errors.ts';
import { resolvePath } from './path.ts';

const base = new URL('https://app.example.com/scim/v2');

describe('resolvePath', () => {
  it('joins a relative path and an encoded query under the base', () => {
    const q = new URLSearchParams({ filter: 'userName eq "a&b"' });
    const url = resolvePath(base, '/Users/abc%20d', q);
    expect(url.href).toBe(
      'https://app.example.com/scim/v2/Users/abc%20d?filter=userName+eq+%22a%26b%22',
    );
    expect(resolvePath(new URL('https://h/scim/v2/'), '/Users').pathname).toBe('/scim/v2/Users');
  });

  it('refuses anything that could leave the base URL', () => {
    for (const bad of [
      'https://evil.example/Users',
      '//evil.example/Users',
      'Users',
      '/../admin',
      '/Users/..',
      '/Users/./x',
      '/Users/%2e%2e/admin',
      '/Users/a%2Fb',
      '/Users\\..\\admin',
      '/Users?filter=x',
      '/Users#x',
      '/Us ers',
      '',
    ]) {
      expect(() => resolvePath(base, bad), bad).toThrow(ScimClientError);
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
