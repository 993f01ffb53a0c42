import type { Entry } from '../../agent/protocol.ts';
import type { CompiledMapping, CompiledRule } from './compile.ts';
import { type JsonObject, schemasOf, setTarget } from './document.ts';
import { stateHash } from './hash.ts';
import {
  type EntryView,
  entryView,
  type MappingContext,
  MappingError,
  orMissing,
  type Val,
} from './values.ts';

/** A SCIM User document as the mapping builds it. */
export interface MappedUser extends JsonObject {
  schemas: string[];
}
export type MappingResult =
  | { ok: true; user: MappedUser; organizationPath?: string[]; hash: string }
  | { ok: false; problems: string[] };

function runRule(rule: CompiledRule, view: EntryView): Val | undefined {
  let val: Val | undefined;
  if (rule.sources.length === 1) {
    val = orMissing({ kind: 'values', v: view.get(rule.sources[0] as string) });
  } else if (rule.sources.length) {
    val = orMissing({ kind: 'values', v: rule.sources.flatMap((s) => view.get(s)) });
  }
  for (const step of rule.steps) val = orMissing(step.run(val, view, rule.required));
  return val;
}

function missing(rule: CompiledRule): string {
  const what = rule.sources.length
    ? `LDAP attribute ${rule.sources.map((s) => `"${s}"`).join(' / ')} is missing or empty`
    : 'the rule yields no value';
  return `${rule.target.text}: required, but ${what}`;
}

/**
 * Maps one directory entry to a SCIM User (pure: no I/O). The organisation comes back as a path
 * of names beside the document, for the sync engine to resolve to an Organization id. `hash`
 * covers exactly the mapped state, so an entry whose mapped state is unchanged can be skipped.
 */
export function applyMapping(
  mapping: CompiledMapping,
  entry: Entry,
  ctx?: MappingContext,
): MappingResult {
  const view = entryView(entry, ctx);
  const doc: JsonObject = {};
  let organizationPath: string[] | undefined;
  const problems: string[] = [];
  for (const rule of mapping.rules) {
    try {
      const val = runRule(rule, view);
      if (val === undefined) {
        if (rule.required) problems.push(missing(rule));
      } else if (val.kind === 'path') organizationPath = val.v;
      else if (val.kind === 'text' || val.kind === 'boolean') setTarget(doc, rule.target, val.v);
    } catch (e) {
      if (!(e instanceof MappingError)) throw e;
      problems.push(`${rule.target.text}: ${e.message}`);
    }
  }
  if (problems.length) return { ok: false, problems };
  const user: MappedUser = { schemas: schemasOf(doc), ...doc };
  const hash = stateHash({ user, organizationPath: organizationPath ?? null });
  return { ok: true, user, ...(organizationPath && { organizationPath }), hash };
}
