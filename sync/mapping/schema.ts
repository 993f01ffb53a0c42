import { z } from 'zod';

/** LDAP attribute descriptions (RFC 4512 §2.5): a name or an OID, options after ';'. */
const LDAP_ATTR = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)(?:;[A-Za-z0-9-]+)*$/;

export const ldapAttributeSchema = z
  .string()
  .regex(LDAP_ATTR, { error: 'not an LDAP attribute name' });

const PLAIN = [
  'first',
  'lower',
  'upper',
  'trim',
  'boolean',
  'not',
  'adUserAccountControlDisabled',
  'base64ToUuid',
] as const;
const NAMES = [...PLAIN, 'join', 'constant', 'template', 'dnToOrganization'];

const plainStep = z.strictObject({ name: z.enum(PLAIN) });

const stepObjectSchema = z.discriminatedUnion(
  'name',
  [
    plainStep,
    z.strictObject({ name: z.literal('join'), separator: z.string().default(' ') }),
    z.strictObject({
      name: z.literal('constant'),
      value: z.union([z.string().min(1), z.boolean()], {
        error: 'expected a non-empty string or a boolean',
      }),
    }),
    z.strictObject({ name: z.literal('template'), template: z.string().min(1) }),
    z.strictObject({
      name: z.literal('dnToOrganization'),
      /** Overrides the context's base DN: only OUs below it count. */
      base: z.string().optional(),
    }),
  ],
  { error: () => `unknown transform; expected one of ${NAMES.join(', ')}` },
);

/** One transform step. Parameter-less steps may be written as their bare name ("lower"). */
export const stepSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  stepObjectSchema,
);

export const ruleSchema = z
  .strictObject({
    target: z.string().min(1),
    source: ldapAttributeSchema.optional(),
    /** Values of every source, in this order (so `first` falls back, `join` concatenates). */
    sources: z.array(ldapAttributeSchema).min(1).optional(),
    /** One step or a chain; stored normalised to a list. */
    transform: z
      .preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(stepSchema))
      .optional(),
    required: z.boolean().default(false),
  })
  .refine((r) => !(r.source && r.sources), {
    error: 'give source or sources, not both',
    path: ['sources'],
  });

export const mappingSchema = z.strictObject({ rules: z.array(z.unknown()).min(1) });

export type Step = z.output<typeof stepSchema>;
/** A step as written: an object, or the bare name of a step whose parameters are optional. */
export type StepInput =
  | (typeof PLAIN)[number]
  | 'join'
  | 'dnToOrganization'
  | z.input<typeof stepObjectSchema>;
/** A rule as written (zod's input type of `transform` is `unknown` because of the preprocess). */
export type RuleInput = Omit<z.input<typeof ruleSchema>, 'transform'> & {
  transform?: StepInput | StepInput[];
};
export type Rule = z.output<typeof ruleSchema>;
/** A mapping as stored with a sync job (the rules are checked one by one by compileMapping). */
export interface MappingInput {
  rules: RuleInput[];
}
