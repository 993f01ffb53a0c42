/**
 * Request targets: every call names a path relative to the client's base URL, and the client
 * proves the resulting URL is still under it — a caller cannot steer it to another host or up
 * the tree (no absolute URLs, no `.`/`..` segments, no encoded dots or slashes).
 */
import { ScimClientError } from './errors.ts';

const RELATIVE = /^\/(?!\/)[^\s?#\\]*$/;

const refuse = (detail: string) => new ScimClientError({ reason: 'refused', detail });

/** The URL of `path` under `base`, or a `refused` error. `query` is encoded here. */
export function resolvePath(base: URL, path: string, query?: URLSearchParams): URL {
  if (!RELATIVE.test(path)) {
    throw refuse('path must be relative to the base URL, like "/Users/123"');
  }
  const segments = path.split('/');
  if (segments.some((s) => s === '.' || s === '..' || /%(2e|2f|5c)/i.test(s))) {
    throw refuse('path must not contain ".", ".." or encoded "." "/" "\\" segments');
  }
  const url = new URL(base.href.replace(/\/+$/, '') + path);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname.replace(/\/+$/, ''))) {
    throw refuse('path leaves the base URL');
  }
  if (query) url.search = query.toString();
  return url;
}
