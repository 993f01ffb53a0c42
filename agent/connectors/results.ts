/** Turning whatever a connector returned or threw into a protocol CommandResult. */
import type { Logger } from 'pino';
import { HostNotAllowedError, redactUrl } from '../config/index.ts';
import {
  type CommandKind,
  type CommandResult,
  describeIssues,
  failure,
  resultDataSchemas,
} from '../protocol.ts';
import { ConnectorError } from './errors.ts';

/** Thrown by `raceAbort` when the command's signal fires first. */
export class DeadlineError extends Error {
  constructor(deadline: string) {
    super(`no result before the command's deadline ${deadline}`);
    this.name = 'DeadlineError';
  }
}

/**
 * Typed errors keep their code; an unexpected throw is a `connector_error` whose details go to
 * the log only (they may describe the local system). Messages have URL credentials redacted.
 */
export function toFailure(e: unknown, log?: Logger): CommandResult<never> {
  // LdapConnectorError is a ConnectorError too.
  if (e instanceof ConnectorError) {
    return failure(e.code, redactUrl(e.message), e.remoteCode);
  }
  if (e instanceof DeadlineError) return failure('timeout', e.message);
  if (e instanceof HostNotAllowedError) return failure('refused', e.message);
  const message = redactUrl(e instanceof Error ? e.message : String(e));
  log?.error({ err: message }, 'connector failed unexpectedly');
  return failure('connector_error', 'the connector failed unexpectedly (see the agent log)');
}

/**
 * The data checked against the protocol's schema for its kind (a connector bug answers
 * `connector_error`, not a malformed result) and, when a cap is given, against it
 * (`too_large`). The agent's runner caps what it sends itself while encoding, so it gives
 * none here: a page is serialised once, not twice.
 */
export function toSuccess(kind: CommandKind, data: unknown, maxBytes?: number): CommandResult {
  const parsed = resultDataSchemas[kind].safeParse(data);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error).slice(0, 5).join('; ');
    return failure(
      'connector_error',
      `the connector returned an invalid ${kind} result: ${problems}`,
    );
  }
  const result: CommandResult = { ok: true, data: parsed.data };
  if (maxBytes === undefined) return result;
  const bytes = Buffer.byteLength(JSON.stringify(result));
  if (bytes > maxBytes) {
    return failure(
      'too_large',
      `result is ${bytes} bytes, over the ${maxBytes}-byte cap; ask for a smaller pageSize or fewer attributes`,
    );
  }
  return result;
}

/** `work`, or DeadlineError as soon as `signal` aborts (the work's own failure is then ignored). */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal, deadline: string): Promise<T> {
  work.catch(() => {}); // it may reject after we stopped listening
  if (signal.aborted) return Promise.reject(new DeadlineError(deadline));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeadlineError(deadline));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
