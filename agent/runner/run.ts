/** Running one command: the connector call raced against its abort signal, and deadline timers. */
import type { Logger } from 'pino';
import { redactUrl } from '../config/index.ts';
import type { ConnectorSet } from '../connectors/types.ts';
import { type Command, type CommandResult, failure } from '../protocol.ts';

/** setTimeout's limit (~24.8 days); a longer wait is chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fn` at epoch ms `when` (at once if past); returns a canceller. */
export function atTime(when: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const ms = when - Date.now();
    timer = setTimeout(ms > MAX_TIMER_MS ? arm : fn, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * The connector's result, or `timeout` as soon as `signal` aborts: a connector that ignores
 * its signal must not hold a concurrency slot (or shutdown) past the deadline. A connector
 * that throws (it must not) is answered `connector_error` without its message, which could
 * hold details of the local system; the message is logged here, URLs redacted.
 */
export function runUntilAborted(
  connectors: ConnectorSet,
  command: Command,
  signal: AbortSignal,
  log: Logger,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const onAbort = () =>
      resolve(failure('timeout', `no result before the command's deadline ${command.deadline}`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    let call: Promise<CommandResult>;
    try {
      call = connectors.execute(command, signal);
    } catch (e) {
      call = Promise.reject(e);
    }
    call
      .then(resolve, (e: unknown) => {
        const message = redactUrl(e instanceof Error ? e.message : String(e));
        log.error({ id: command.id, err: message }, 'connector threw instead of answering');
        resolve(
          failure('connector_error', 'the connector failed unexpectedly (see the agent log)'),
        );
      })
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
