import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('applies defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.dataDir.endsWith('.data')).toBe(true);
    expect(c.scim.maxResults).toBe(1000);
  });

  it('reads typed values', () => {
    const c = loadConfig({
      PORT: '9001',
      DATABASE_URL: 'postgres://u:p@db:5432/idhub',
      LOG_LEVEL: 'debug',
    });
    expect(c.port).toBe(9001);
    expect(c.databaseUrl).toBe('postgres://u:p@db:5432/idhub');
    expect(c.logLevel).toBe('debug');
  });

  it('lists every bad value at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'http://x', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/REDIS_URL/);
    expect(problems).toMatch(/LOG_LEVEL/);
    expect((err as ConfigError).problems).toHaveLength(3);
  });
});
