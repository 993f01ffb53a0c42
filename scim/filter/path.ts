import { badRequest } from '../errors.ts';

/** An attribute path taken apart: "[urn:]attr[.sub]". */
export interface AttrPathParts {
  urn?: string;
  attr: string;
  sub?: string;
}

const ATTRNAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const URN_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * RFC 7643 §2.1 ATTRNAME (ALPHA *(ALPHA / DIGIT / "-" / "_")) plus "$ref". Names such as
 * `__proto__` or `$where` are refused here, before anything looks them up in an object.
 */
export function isAttrName(name: string): boolean {
  return name === '$ref' || ATTRNAME.test(name);
}

/**
 * Checks the syntax of "[URI ':'] ATTRNAME ['.' ATTRNAME]" (RFC 7644 attrPath) and splits it.
 * The URI part is everything before the last colon (it may contain dots, e.g. "2.0"). Returns
 * undefined for anything malformed; callers pick the scimType of their context.
 */
export function splitAttrPath(text: string): AttrPathParts | undefined {
  let urn: string | undefined;
  let rest = text;
  if (text.toLowerCase().startsWith('urn:')) {
    const cut = text.lastIndexOf(':');
    urn = text.slice(0, cut);
    rest = text.slice(cut + 1);
    if (!urn.split(':').every((s) => URN_SEGMENT.test(s))) return undefined;
  }
  const names = rest.split('.');
  if (names.length > 2 || !names.every(isAttrName)) return undefined;
  const [attr, sub] = names as [string, string | undefined];
  return { ...(urn !== undefined && { urn }), attr, ...(sub !== undefined && { sub }) };
}

/** Splits at commas outside brackets, so `emails[type eq "a,b"]` stays one entry. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"' && text.charAt(i - 1) !== '\\') quoted = !quoted;
    else if (!quoted && c === '[') depth++;
    else if (!quoted && c === ']') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** True when `text` is a syntactically valid attribute path. */
export function isAttrPath(text: string): boolean {
  return splitAttrPath(text) !== undefined;
}

/**
 * Parses the `attributes` / `excludedAttributes` query parameters (RFC 7644 §3.4.2.5): a
 * comma-separated list of attribute paths. A blank parameter means "none"; any empty or
 * malformed entry is a 400 invalidValue so a typo never silently widens or narrows a response.
 */
export function parseAttributeList(
  text: string,
  valuePath: (entry: string) => string = (e) => e,
): string[] {
  if (text.trim() === '') return [];
  return splitTopLevel(text).map((raw) => {
    const path = raw.includes('[') ? valuePath(raw.trim()) : raw.trim();
    if (!isAttrPath(path)) {
      throw badRequest('invalidValue', `Invalid attribute path '${path}' in attribute list`);
    }
    return path;
  });
}
