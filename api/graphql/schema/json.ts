import { Kind, valueFromASTUntyped } from 'graphql';
import { builder } from '../builder.ts';

/**
 * `JSON`: a JSON object (settings such as a data source's config). Arrays, strings and other
 * non-objects are refused on input, so resolvers always receive a plain object.
 */
export type JsonObject = Record<string, unknown>;

const isPlainObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

function objectOnly(v: unknown): JsonObject {
  if (!isPlainObject(v)) throw new TypeError('JSON must be an object ({…})');
  return v;
}

export const JsonRef = builder.scalarType('JSON', {
  description: 'A JSON object.',
  serialize: objectOnly,
  parseValue: objectOnly,
  parseLiteral: (ast, variables) => {
    if (ast.kind !== Kind.OBJECT) throw new TypeError('JSON must be an object ({…})');
    // graphql-js builds literal objects without a prototype; downstream code (drizzle's jsonb
    // parameter) expects plain objects, so the value is rebuilt as plain JSON.
    return objectOnly(JSON.parse(JSON.stringify(valueFromASTUntyped(ast, variables))));
  },
});
