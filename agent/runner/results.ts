/**
 * Delivers results: `POST {url}/agent/v1/commands/{id}/result` to the URL the command came
 * from, then — on network errors and 5xx — to the other URLs in turn, with backoff, until the
 * command's deadline. 409 (no longer leased to this agent) and 404 end it quietly.
 */
import type { Logger } from 'pino';
import { resultPath } from '../protocol.ts';
import type { PostResult } from './answers.ts';
import { Backoff, type DelayPolicy, sleep } from './backoff.ts';
import { type HubClient, hubError } from './http.ts';

export interface PosterOptions {
  clients: readonly HubClient[];
  retry: DelayPolicy;
  logger: Logger;
  random?: () => number;
}

type Attempt = 'done' | 'drop' | 'retry';

/** Statuses worth another try (elsewhere, later); other 4xx would fail the same way again. */
const RETRYABLE = new Set([401, 403, 408, 425, 429]);

export function createResultPoster(o: PosterOptions): PostResult {
  return async (id, body, url, deadline, signal) => {
    const origin = o.clients.find((c) => c.url === url);
    const order = origin ? [origin, ...o.clients.filter((c) => c !== origin)] : [...o.clients];
    const backoff = new Backoff(o.retry, o.random);
    for (let attempt = 0; ; attempt++) {
      const client = order[attempt % order.length];
      if (!client) return;
      const log = o.logger.child({ id, hub: client.url });
      if ((await postOnce(client, id, body, signal, log)) !== 'retry') return;
      const delayMs = backoff.next();
      if (signal.aborted) return;
      if (Date.now() + delayMs > deadline) {
        log.warn({ attempts: attempt + 1 }, 'result not delivered before the deadline: giving up');
        return;
      }
      await sleep(delayMs, signal);
    }
  };
}

async function postOnce(
  client: HubClient,
  id: string,
  body: string,
  signal: AbortSignal,
  log: Logger,
): Promise<Attempt> {
  let res: Awaited<ReturnType<HubClient['postJson']>>;
  try {
    res = await client.postJson(resultPath(id), body, signal);
  } catch (e) {
    if (signal.aborted) return 'drop';
    log.warn(
      { code: (e as NodeJS.ErrnoException).code },
      `result post failed: ${(e as Error).message}`,
    );
    return 'retry';
  }
  const { status } = res;
  if (status >= 200 && status < 300) {
    log.debug('result delivered');
    return 'done';
  }
  if (status === 404 || status === 409) {
    log.debug({ status }, 'the hub no longer wants this result');
    return 'drop';
  }
  const { code, message } = hubError(res.body);
  const retry = status >= 500 || RETRYABLE.has(status);
  log[retry ? 'warn' : 'error']({ status, code }, `hub refused the result: ${message}`);
  return retry ? 'retry' : 'drop';
}
