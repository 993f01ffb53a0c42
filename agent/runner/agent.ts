/**
 * The agent's composition root: one HubClient + HubStream per hub URL, all feeding one
 * CommandExecutor; heartbeats, result delivery and the optional healthz server around it.
 */
import type { Logger } from 'pino';
import { type AgentConfig, isLoopback, redact } from '../config/index.ts';
import type { ConnectorSet } from '../connectors/types.ts';
import { Answers } from './answers.ts';
import { loadConnectors } from './connectors.ts';
import { CommandExecutor } from './executor.ts';
import { type AgentStatus, type Healthz, startHealthz } from './healthz.ts';
import { startHeartbeats } from './heartbeat.ts';
import { HubClient } from './http.ts';
import { createResultPoster } from './results.ts';
import { HubStream } from './stream.ts';
import { loadHubTls } from './tls.ts';
import { agentVersion } from './version.ts';

export interface StartOptions {
  logger: Logger;
  /** Defaults to the real connectors for config.dataSources. */
  connectors?: ConnectorSet;
  /** Sent to the hub; defaults to package.json's version. */
  version?: string;
  /** How long shutdown waits for running commands and their results (default 10 s). */
  graceMs?: number;
  /** Commands run at once (default 8). */
  concurrency?: number;
  /** Jitter source, for tests. */
  random?: () => number;
}

export interface RunningAgent {
  status(): AgentStatus;
  /** The port healthz listens on (useful when configured as 0), when enabled. */
  readonly healthzPort: number | undefined;
  /** Graceful shutdown (idempotent): see CommandExecutor.drain. */
  close(): Promise<void>;
}

/** Starts the agent; throws AgentConfigError when the TLS material cannot be loaded. */
export async function startAgent(config: AgentConfig, opts: StartOptions): Promise<RunningAgent> {
  const { logger } = opts;
  const version = opts.version ?? agentVersion();
  const tls = loadHubTls(config);
  warnCleartext(config, logger);
  const connectors = opts.connectors ?? (await loadConnectors(config, logger, version));
  const base = { tenantId: config.tenantId, auth: config.auth, tls, agentVersion: version };
  const clients = config.urls.map((url) => new HubClient(url, base));
  const post = createResultPoster({
    clients,
    retry: config.reconnectDelay,
    logger,
    random: opts.random,
  });
  const answers = new Answers(post, logger, undefined, config.maxResultBytes);
  const executor = new CommandExecutor({
    connectors,
    answers,
    logger,
    concurrency: opts.concurrency,
  });
  const streams = clients.map(
    (client) =>
      new HubStream({
        client,
        keepAliveMs: config.keepAlive.intervalMs,
        reconnect: config.reconnectDelay,
        logger,
        random: opts.random,
        events: {
          command: (e, url) => executor.receive(e, url),
          cancel: (d) => executor.cancel(d),
        },
      }),
  );
  const status = (): AgentStatus => {
    const s = streams.map((stream) => stream.status());
    const ok = s.some((x) => x.connected);
    return { status: ok ? 'ok' : 'degraded', streams: s, inFlight: executor.inFlight().length };
  };
  let healthz: Healthz | undefined;
  try {
    healthz = config.healthz && (await startHealthz(config.healthz, status));
  } catch (e) {
    await connectors.close();
    throw e;
  }
  for (const stream of streams) stream.start();
  const heartbeats = startHeartbeats({
    links: streams.map((s, i) => ({
      client: clients[i] as HubClient,
      connected: () => s.connected,
    })),
    executor,
    agentVersion: version,
    intervalMs: config.keepAlive.intervalMs,
    logger,
  });
  logger.info(summary(config, version, healthz?.port), 'agent started');
  logger.debug({ config: redact(config) }, 'configuration');

  const shutdown = async () => {
    logger.info('agent stopping');
    heartbeats.stop();
    await Promise.all(streams.map((s) => s.stop()));
    await executor.drain(opts.graceMs ?? 10_000);
    await connectors
      .close()
      .catch((err: unknown) => logger.error({ err }, 'closing connectors failed'));
    await healthz?.close();
    for (const client of clients) client.close();
    logger.info('agent stopped');
  };
  let closing: Promise<void> | undefined;
  return {
    status,
    healthzPort: healthz?.port,
    close: () => {
      closing ??= shutdown();
      return closing;
    },
  };
}

function summary(config: AgentConfig, version: string, healthzPort: number | undefined) {
  return {
    version,
    urls: redact(config.urls),
    tenantId: config.tenantId,
    auth: config.auth.kind,
    dataSources: Object.keys(config.dataSources),
    healthz: config.healthz && { host: config.healthz.host, port: healthzPort },
  };
}

/** Basic credentials over plain http to another machine can be read on the way. */
function warnCleartext(config: AgentConfig, logger: Logger): void {
  if (config.auth.kind !== 'basic') return;
  for (const url of config.urls) {
    const { protocol, hostname } = new URL(url);
    if (protocol === 'http:' && !isLoopback(hostname)) {
      logger.warn({ url: redact(url) }, 'basic credentials are sent over plain http: use https');
    }
  }
}
