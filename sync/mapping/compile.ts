import { describeIssues } from '../../agent/protocol.ts';
import { type MappingInput, mappingSchema, type Rule, ruleSchema } from './schema.ts';
import { type CompiledTarget, compileTarget } from './target.ts';
import { type CompiledStep, compileStep } from './transforms.ts';
import { MappingError, type ValKind } from './values.ts';

export interface CompiledRule {
  target: CompiledTarget;
  sources: string[];
  steps: CompiledStep[];
  required: boolean;
}
/** A mapping checked against the schemas, ready to apply to many entries. */
export interface CompiledMapping {
  rules: CompiledRule[];
}
export type CompileResult =
  | { ok: true; mapping: CompiledMapping }
  | { ok: false; problems: string[] };

const DESCRIBE: Record<ValKind | 'none', string> = {
  none: 'nothing',
  values: 'LDAP values',
  text: 'text',
  boolean: 'a boolean',
  path: 'an organisation path',
};

const HINT: Record<CompiledTarget['kind'], string> = {
  text: '',
  boolean: ' (end with boolean, adUserAccountControlDisabled + not, or a boolean constant)',
  path: ' (use dnToOrganization)',
};

/** Compiles the transform chain and checks that what it yields fits the target. */
function compileChain(rule: Rule, target: CompiledTarget, at: string): CompiledStep[] {
  let kind: ValKind | 'none' = rule.source || rule.sources ? 'values' : 'none';
  const steps: CompiledStep[] = [];
  for (const [i, spec] of (rule.transform ?? []).entries()) {
    let step: CompiledStep;
    try {
      step = compileStep(spec, kind);
    } catch (e) {
      if (e instanceof MappingError) throw new MappingError(`${at}.transform.${i}: ${e.message}`);
      throw e;
    }
    if (!step.accepts.includes(kind)) {
      const why =
        step.accepts.length === 1 && step.accepts[0] === 'none'
          ? 'it makes its own value, so it comes first in a rule without source'
          : kind === 'none'
            ? 'the rule has no source to read'
            : `it cannot take ${DESCRIBE[kind]}`;
      throw new MappingError(`${at}.transform.${i}: ${spec.name}: ${why}`);
    }
    kind = step.output(kind);
    steps.push(step);
  }
  // Single-valued targets take the first value unless the chain reduced the values itself.
  if (kind === 'values' && target.kind === 'text') steps.push(compileStep({ name: 'first' }, kind));
  else if (kind === 'none') {
    throw new MappingError(`${at}: give a source, or a constant / template / dnToOrganization`);
  } else if (kind !== target.kind) {
    throw new MappingError(
      `${at}.transform: "${target.text}" takes ${DESCRIBE[target.kind]}, the rule yields ${DESCRIBE[kind]}${HINT[target.kind]}`,
    );
  }
  const last = steps.at(-1)?.name;
  if (target.docPath.join('.') === 'active' && last === 'adUserAccountControlDisabled') {
    // The transform answers "disabled?"; mapped straight to active it would invert every account.
    throw new MappingError(
      `${at}.transform: adUserAccountControlDisabled is true for a disabled account; add "not" to map it to active`,
    );
  }
  return steps;
}

function compileRule(input: unknown, at: string, problems: string[]): CompiledRule | undefined {
  const parsed = ruleSchema.safeParse(input);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => `${[at, ...i.path].join('.')}: ${i.message}`));
    return undefined;
  }
  const rule = parsed.data;
  try {
    let target: CompiledTarget;
    try {
      target = compileTarget(rule.target);
    } catch (e) {
      if (e instanceof MappingError) throw new MappingError(`${at}.target: ${e.message}`);
      throw e;
    }
    const steps = compileChain(rule, target, at);
    const sources = rule.sources ?? (rule.source ? [rule.source] : []);
    return { target, sources, steps, required: rule.required || target.required };
  } catch (e) {
    if (!(e instanceof MappingError)) throw e;
    problems.push(e.message);
    return undefined;
  }
}

/**
 * Validates a mapping as saved with a sync job and compiles it for applyMapping. Every problem
 * is reported at once as `rules.3.target: message`, so an administrator fixes them in one go.
 */
export function compileMapping(input: MappingInput | unknown): CompileResult {
  const outer = mappingSchema.safeParse(input);
  if (!outer.success) return { ok: false, problems: describeIssues(outer.error) };
  const problems: string[] = [];
  const rules: CompiledRule[] = [];
  const seen = new Map<string, number>();
  /** Per multi-valued attribute: the element (by its filter) that may be primary, and its rule. */
  const primaries = new Map<string, { element: string; rule: number }>();
  outer.data.rules.forEach((raw, i) => {
    const rule = compileRule(raw, `rules.${i}`, problems);
    if (!rule) return;
    const earlier = seen.get(rule.target.key);
    if (earlier !== undefined) {
      problems.push(
        `rules.${i}.target: "${rule.target.text}" is already mapped by rules.${earlier}`,
      );
    }
    seen.set(rule.target.key, i);
    // RFC 7643 §2.4: at most one value of a multi-valued attribute is primary.
    const { element, schema, docPath } = rule.target;
    if (element && (element.match.primary === true || element.sub === 'primary')) {
      const attr = `${schema}:${docPath.join('.')}`;
      const match = JSON.stringify(Object.entries(element.match).sort());
      const other = primaries.get(attr);
      if (other && other.element !== match) {
        problems.push(
          `rules.${i}.target: "${rule.target.text}" could make a second value of ${docPath.join('.')} primary (rules.${other.rule} already can)`,
        );
      } else primaries.set(attr, { element: match, rule: i });
    }
    rules.push(rule);
  });
  // Only when every rule compiled: a broken userName rule has already said what is wrong.
  const allCompiled = rules.length === outer.data.rules.length;
  if (allCompiled && !rules.some((r) => r.target.docPath.join('.') === 'userName')) {
    problems.push('rules: no rule maps userName, which every SCIM User needs');
  }
  return problems.length ? { ok: false, problems } : { ok: true, mapping: { rules } };
}
