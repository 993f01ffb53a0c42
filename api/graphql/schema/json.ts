import type { ScalarRef, SchemaTypes } from '@pothos/core';
import { GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';
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

// Only its config is used (addScalarType copies it), so which graphql-js copy builds this
// instance does not matter here (see graphql.ts for where it does).
const JsonType = new GraphQLScalarType<JsonObject, JsonObject>({
  name: 'JSON',
  description: 'A JSON object.',
  serialize: objectOnly,
  parseValue: objectOnly,
  parseLiteral: (ast, variables) => {
    if (ast.kind !== Kind.OBJECT) throw new TypeError('JSON must be an object ({…})');
    return objectOnly(valueFromASTUntyped(ast, variables));
  },
});

type Types =
  typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T extends SchemaTypes> ? T : never;

/**
 * builder.ts lists its scalars in the builder's type parameters (DateTime, ID), so a scalar
 * added here has to name itself past that list and state its shapes itself.
 */
export const JsonRef = builder.addScalarType('JSON' as never, JsonType) as unknown as ScalarRef<
  Types,
  JsonObject,
  JsonObject
>;
