type Maybe<T> = T | undefined | null | false | 0;

/**
 * Polls `check` (sync or async) until it returns a truthy value, or throws after `timeoutMs`:
 * for state that lives in another process, a server or a database, where no event says when it
 * changed. Bounded, never a sleep standing in for synchronisation.
 */
export async function until<T>(
  check: () => Maybe<T> | Promise<Maybe<T>>,
  what: string,
  timeoutMs = 5000,
  pollMs = 10,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
