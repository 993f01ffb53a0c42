import { createRequire } from 'node:module';
import type * as GraphQLJs from 'graphql';

/**
 * graphql-js, loaded the way Node loads it for Pothos and yoga. graphql 16 ships CJS (`main`)
 * and ESM (`module`) builds without an `exports` map: Node's ESM loader picks the CJS build,
 * bundler-style resolvers (vitest's) the ESM one. Two copies break `instanceof` (schema
 * printing refuses "another module", errors look unexpected), so every graphql-js value this
 * folder uses comes from here, always the copy the libraries use.
 */
const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQLJs;

export const { GraphQLError, lexicographicSortSchema, printSchema } = graphql;
export type GraphQLError = GraphQLJs.GraphQLError;
