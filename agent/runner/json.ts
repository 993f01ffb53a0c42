import type { z } from 'zod';

/** Parses JSON text against a schema; undefined when it is not JSON or not that shape. */
export function parseJson<T>(schema: z.ZodType<T>, text: string): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Settles once every tracked promise (including ones added meanwhile) has settled. */
export class Tracker {
  readonly #pending = new Set<Promise<unknown>>();

  add(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p)).catch(() => undefined);
  }

  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }
}
