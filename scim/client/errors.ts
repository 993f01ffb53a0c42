/**
 * The one error the outbound SCIM client throws. `status` is the HTTP status (0 when no
 * response arrived); `reason` says which kind of failure it was. Messages never contain the
 * client's credentials.
 */
export type ScimClientFailure =
  /** The server answered with a non-2xx status (see status, scimType, detail). */
  | 'status'
  | 'timeout'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  | 'network'
  /** A request or response body over the cap. */
  | 'too_large'
  /** A 2xx answer that is not SCIM JSON. */
  | 'bad_response'
  /** The call was refused before sending (a path outside the base URL, bad options). */
  | 'refused';

export class ScimClientError extends Error {
  readonly status: number;
  readonly scimType?: string;
  readonly detail: string;
  /** From `Retry-After` on 429 / 503, in ms. */
  readonly retryAfterMs?: number;
  readonly reason: ScimClientFailure;

  constructor(init: {
    reason: ScimClientFailure;
    detail: string;
    status?: number;
    scimType?: string;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(init.status ? `SCIM ${init.status}: ${init.detail}` : init.detail, {
      cause: init.cause,
    });
    this.name = 'ScimClientError';
    this.reason = init.reason;
    this.status = init.status ?? 0;
    this.detail = init.detail;
    if (init.scimType !== undefined) this.scimType = init.scimType;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }
}

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
