/** The mapping engine: directory entry → SCIM User. Pure (no I/O); see README.md. */
export { anchorOf, guidBytesToUuid } from './anchor.ts';
export { applyMapping, type MappedUser, type MappingResult } from './apply.ts';
export { type CompiledMapping, type CompileResult, compileMapping } from './compile.ts';
export { DEFAULT_MAPPINGS } from './defaults.ts';
export { stateHash } from './hash.ts';
export {
  type MappingInput,
  mappingSchema,
  type RuleInput,
  ruleSchema,
  type Step,
  type StepInput,
} from './schema.ts';
export { type MappingContext, MappingError } from './values.ts';
