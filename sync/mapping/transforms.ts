import { valueToUuid } from './anchor.ts';
import { dnToOrganizationPath, type ParsedBase, parseBase } from './organization.ts';
import type { Step } from './schema.ts';
import { parseTemplate, renderTemplate, type TemplatePart } from './template.ts';
import {
  type EntryView,
  firstText,
  MappingError,
  textOf,
  type Val,
  type ValKind,
} from './values.ts';

/** A transform step ready to run: parameters parsed, static types known. */
export interface CompiledStep {
  name: Step['name'];
  /** Kinds it takes; `none` = it reads the entry itself and must start a chain without source. */
  accepts: readonly (ValKind | 'none')[];
  output(input: ValKind | 'none'): ValKind;
  run(input: Val | undefined, view: EntryView, required: boolean): Val | undefined;
}

const TEXTY = ['values', 'text'] as const;

/** Applies a string function to text, or to every value of an attribute. */
function mapText(name: string, fn: (s: string) => string): CompiledStep['run'] {
  return (input) => {
    if (!input) return undefined;
    if (input.kind === 'text') return { kind: 'text', v: fn(input.v) };
    if (input.kind !== 'values') throw new MappingError(`${name}: expects text`);
    return { kind: 'values', v: input.v.map((x) => fn(textOf(x, name))) };
  };
}

function fromText(name: string, fn: (s: string) => Val): CompiledStep['run'] {
  return (input) => {
    const text = input ? firstText(input, name) : undefined;
    return text === undefined ? undefined : fn(text);
  };
}

const same = (k: ValKind | 'none'): ValKind => (k === 'none' ? 'text' : k);

function parseBoolean(text: string): Val {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '1') return { kind: 'boolean', v: true };
  if (t === 'false' || t === '0') return { kind: 'boolean', v: false };
  throw new MappingError(`boolean: "${text}" is not TRUE, FALSE, 1 or 0`);
}

/** ADS_UF_ACCOUNTDISABLE (0x2) of userAccountControl: true when the account is disabled. */
function uacDisabled(text: string): Val {
  const t = text.trim();
  if (!/^-?[0-9]+$/.test(t)) {
    throw new MappingError(`adUserAccountControlDisabled: "${text}" is not an integer`);
  }
  // `Number & 2` works on the 32-bit value, signed or not, as AD may print either.
  return { kind: 'boolean', v: (Number(t) & 2) !== 0 };
}

type PlainName = Exclude<Step['name'], 'join' | 'constant' | 'template' | 'dnToOrganization'>;
type Signature = Omit<CompiledStep, 'name'>;

const toText = (v: string): Val => ({ kind: 'text', v });

/** The parameter-less transforms: what each accepts, yields, and does. */
const PLAIN: Record<PlainName, Signature> = {
  first: { accepts: TEXTY, output: () => 'text', run: fromText('first', toText) },
  lower: { accepts: TEXTY, output: same, run: mapText('lower', (s) => s.toLowerCase()) },
  upper: { accepts: TEXTY, output: same, run: mapText('upper', (s) => s.toUpperCase()) },
  trim: { accepts: TEXTY, output: same, run: mapText('trim', (s) => s.trim()) },
  boolean: { accepts: TEXTY, output: () => 'boolean', run: fromText('boolean', parseBoolean) },
  adUserAccountControlDisabled: {
    accepts: TEXTY,
    output: () => 'boolean',
    run: fromText('adUserAccountControlDisabled', uacDisabled),
  },
  not: {
    accepts: ['boolean'],
    output: () => 'boolean',
    run: (input) => (input?.kind === 'boolean' ? { kind: 'boolean', v: !input.v } : undefined),
  },
  base64ToUuid: {
    accepts: ['values'],
    output: () => 'text',
    run: (input) => {
      const first = input?.kind === 'values' ? input.v[0] : undefined;
      return first === undefined ? undefined : toText(valueToUuid(first));
    },
  },
};

function template(parts: TemplatePart[]): CompiledStep {
  return {
    name: 'template',
    accepts: ['none'],
    output: () => 'text',
    run: (_input, view, required) => {
      const lookup = (attr: string) => {
        const [first] = view.get(attr);
        return first === undefined ? undefined : textOf(first, `template {${attr}}`);
      };
      return { kind: 'text', v: renderTemplate(parts, lookup, required) };
    },
  };
}

function dnToOrganization(base: string | undefined, input: ValKind | 'none'): CompiledStep {
  const fixed = base === undefined ? undefined : parseBase(base); // a bad base fails on save
  let fromCtx: ParsedBase | undefined; // the job's base: parsed once, not once per entry
  const baseFor = (ctxBase: string | undefined) => {
    if (fixed || ctxBase === undefined) return fixed;
    if (fromCtx?.text !== ctxBase) fromCtx = parseBase(ctxBase);
    return fromCtx;
  };
  return {
    name: 'dnToOrganization',
    accepts: ['none', ...TEXTY],
    output: () => 'path',
    run: (value, view) => {
      // Without a source the entry's own DN is read; a missing source attribute is missing.
      const dn = input === 'none' ? view.dn : value && firstText(value, 'dnToOrganization');
      if (dn === undefined) return undefined;
      return { kind: 'path', v: dnToOrganizationPath(dn, baseFor(view.ctx.baseDn)) };
    },
  };
}

/**
 * Compiles one validated step; throws MappingError for parameters zod cannot judge. `input` is
 * the kind the previous step yields (`none` at the start of a rule without source).
 */
export function compileStep(step: Step, input: ValKind | 'none'): CompiledStep {
  switch (step.name) {
    case 'join':
      return {
        name: step.name,
        accepts: ['values'],
        output: () => 'text',
        run: (input) =>
          input?.kind === 'values'
            ? { kind: 'text', v: input.v.map((x) => textOf(x, 'join')).join(step.separator) }
            : undefined,
      };
    case 'constant': {
      const val: Val =
        typeof step.value === 'boolean'
          ? { kind: 'boolean', v: step.value }
          : { kind: 'text', v: step.value };
      return { name: step.name, accepts: ['none'], output: () => val.kind, run: () => val };
    }
    case 'template':
      return template(parseTemplate(step.template));
    case 'dnToOrganization':
      return dnToOrganization(step.base, input);
    default:
      return { name: step.name, ...PLAIN[step.name] };
  }
}
