import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createGraphQLError, createYoga, type Plugin } from 'graphql-yoga';
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { authenticate } from './auth.ts';
import { createContext, type GraphQLContext, type ServerContext } from './context.ts';
import { GraphQLError } from './graphql.ts';
import { schema } from './schema/index.ts';

/** The header a non-browser-form client sends; JSON requests pass CSRF prevention anyway. */
export const CSRF_HEADER = 'x-graphql-csrf';

/** Limits on a document, checked at validation before anything runs. */
export const LIMITS = {
  // Relay spends two levels per hop (edges, node): user → groups → members → field is 11.
  maxDepth: 12,
  maxCost: 5000,
  maxAliases: 15,
  maxTokens: 2000,
  maxDirectives: 10,
};

/**
 * Replaces unexpected errors (anything not a GraphQLError the schema meant to show) by one
 * opaque error carrying the request id, and logs the original with that id.
 */
const maskUnexpected: Plugin<GraphQLContext> = {
  onExecute({ args }) {
    const ctx = args.contextValue;
    return {
      onExecuteDone({ result, setResult }) {
        if (!('errors' in result) || !result.errors?.length) return;
        let masked = false;
        const errors = result.errors.map((e) => {
          const original = e.originalError;
          if (!original || original instanceof GraphQLError) return e;
          masked = true;
          ctx.log.error({ err: original, path: e.path }, 'graphql resolver failed');
          return createGraphQLError('Unexpected error.', {
            path: e.path,
            nodes: e.nodes,
            extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: ctx.requestId },
          });
        });
        if (masked) setResult({ ...result, errors });
      },
    };
  },
};

/** The GraphQL admin API at /graphql: GET serves GraphiQL to browsers, POST executes. */
export function createGraphQLApp(): Hono<AppEnv> {
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ services, requestId, log, viewer }) =>
      createContext({ services, requestId, log, viewer }),
    batching: false,
    multipart: false,
    landingPage: false,
    logging: false,
    // The backstop: unexpected errors are replaced by maskUnexpected (with the request id);
    // errors that are GraphQLErrors by design (scope-auth's ForbiddenError…) stay visible.
    maskedErrors: {
      maskError: (error, message) =>
        error instanceof GraphQLError &&
        (!error.originalError || error.originalError instanceof GraphQLError)
          ? error
          : createGraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
    },
    // GraphiQL's page and assets come from the npm package, not a CDN: the hub works offline.
    // The package holds the whole GraphiQL bundle (~75 MB of heap once loaded), so it is only
    // loaded when someone opens the playground.
    renderGraphiQL: async (opts) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(opts),
    graphiql: {
      title: 'idhub admin API',
      headers: JSON.stringify({ Authorization: 'Bearer <admin token>' }, null, 2),
      shouldPersistHeaders: false,
      defaultQuery:
        'query {\n  viewer { kind tenant { name status } token { prefix scopes } }\n  users(first: 10) {\n    totalCount\n    edges { node { id userName active groups { edges { node { displayName } direct } } } }\n  }\n}\n',
    },
    plugins: [
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      EnvelopArmorPlugin({
        maxDepth: { n: LIMITS.maxDepth, ignoreIntrospection: true },
        costLimit: { maxCost: LIMITS.maxCost, ignoreIntrospection: true },
        maxAliases: { n: LIMITS.maxAliases },
        maxTokens: { n: LIMITS.maxTokens },
        maxDirectives: { n: LIMITS.maxDirectives },
        blockFieldSuggestion: { enabled: true },
      }),
      maskUnexpected,
    ],
  });

  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    // A browser asking for the page gets GraphiQL; the page itself holds no data.
    if ((c.req.header('accept') ?? '').includes('text/html')) {
      return withRequestId(await yoga.fetch(c.req.raw, {} as ServerContext), c.get('requestId'));
    }
    return graphqlRefusal(c.get('requestId'), 405, 'use POST with a JSON body', { Allow: 'POST' });
  });
  app.post('/', async (c) => {
    const auth = await authenticate(c);
    const requestId = c.get('requestId');
    if ('refused' in auth) return withRequestId(auth.refused, requestId);
    const res = await yoga.fetch(c.req.raw, {
      services: c.get('services'),
      requestId,
      log: c.get('log'),
      viewer: auth.viewer,
    });
    return withRequestId(res, requestId);
  });
  return app;
}

/** Responses built outside Hono's context miss the headers its middleware set. */
function withRequestId(res: Response, requestId: string): Response {
  const headers = new Headers(res.headers);
  headers.set('X-Request-Id', requestId);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

function graphqlRefusal(
  requestId: string,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(
    JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST', requestId } }] }),
    {
      status,
      headers: { 'Content-Type': 'application/json', 'X-Request-Id': requestId, ...headers },
    },
  );
}
