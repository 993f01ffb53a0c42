import type { Context } from 'hono';
import type { AppEnv } from '../api/env.ts';
import { ScimError } from './errors.ts';
import { parseJsonBody } from './resource/json.ts';

const ACCEPTED = new Set(['application/scim+json', 'application/json']);

/**
 * Reads a request body as a JSON object: the SCIM or plain JSON media type (Okta sends
 * application/json), within the size limit, strictly parsed.
 */
export async function readJson(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type');
  if (type !== undefined) {
    const media = type.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!ACCEPTED.has(media)) {
      throw new ScimError(
        415,
        undefined,
        `unsupported media type "${media}"; send application/scim+json`,
      );
    }
  }
  const limit = c.get('services').config.scim.maxBodyBytes;
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > limit) throw new ScimError(413, undefined, `the body exceeds ${limit} bytes`);
  const buf = await c.req.arrayBuffer();
  if (buf.byteLength > limit)
    throw new ScimError(413, undefined, `the body exceeds ${limit} bytes`);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf);
  return parseJsonBody(text, limit) as Record<string, unknown>;
}
