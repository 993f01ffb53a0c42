import { SCHEMA, userKind } from '../../scim/schemas/index.ts';
import type { CompiledTarget } from './target.ts';

export type Json = string | boolean | JsonObject | Json[];
export interface JsonObject {
  [key: string]: Json;
}

/** Walks (creating) the objects along `path`; the keys come from the schema, never from data. */
function objectAt(doc: JsonObject, path: string[], depth = path.length): JsonObject {
  let node = doc;
  for (let i = 0; i < depth; i++) {
    const key = path[i] as string;
    const next = node[key];
    if (next !== undefined && typeof next === 'object' && !Array.isArray(next)) node = next;
    else node = node[key] = {};
  }
  return node;
}

/**
 * Sets one mapped value. An element target (`emails[type eq "work"].value`) finds or creates the
 * array element its filter describes, so two rules on `addresses[type eq "work"]` fill one
 * element.
 */
export function setTarget(doc: JsonObject, target: CompiledTarget, value: string | boolean): void {
  const parent = objectAt(doc, target.docPath, target.docPath.length - 1);
  const last = target.docPath.at(-1) ?? '';
  if (!target.element) {
    parent[last] = value;
    return;
  }
  const { match, sub } = target.element;
  const existing = parent[last];
  const list: Json[] = Array.isArray(existing) ? existing : [];
  parent[last] = list;
  const matches = (e: Json) =>
    typeof e === 'object' &&
    !Array.isArray(e) &&
    Object.entries(match).every(([k, v]) => e[k] === v);
  let element = list.find(matches) as JsonObject | undefined;
  if (!element) {
    element = { ...match };
    list.push(element);
  }
  element[sub] = value;
}

/** `schemas` lists the core URN and each extension the document actually holds. */
export function schemasOf(doc: JsonObject): string[] {
  return [SCHEMA.user, ...userKind.extensions.map((e) => e.id).filter((id) => id in doc)];
}
