/**
 * The agent's entry: `idhub agent --config application.yaml` (through api/cli.ts), or the built
 * bundle `node dist/agent/idhub-agent.mjs --config application.yaml`. Exit codes: 0 after a
 * clean shutdown or --help, 2 for a bad command line or configuration, 1 for anything else.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import { AgentConfigError, loadAgentConfig } from './config/index.ts';
import { startAgent } from './runner/agent.ts';
import { loadConnectors } from './runner/connectors.ts';
import { agentVersion } from './runner/version.ts';

const USAGE = `usage: idhub-agent --config <application.yaml> [--log-level info]

  --config, -c   the agent's configuration (see agent/application.example.yaml)
  --log-level    fatal, error, warn, info (default), debug, trace or silent
  --version      print the agent's version
  --help, -h     this text`;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

class UsageError extends Error {}

/** Runs the agent until SIGTERM/SIGINT; exits the process itself on errors (see above). */
export async function runAgentCli(argv: string[]): Promise<void> {
  try {
    await run(argv);
  } catch (err) {
    if (err instanceof AgentConfigError || err instanceof UsageError) {
      process.stderr.write(`idhub-agent: ${err.message}\n`);
      if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function run(argv: string[]): Promise<void> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.version) return void process.stdout.write(`${agentVersion()}\n`);
  if (!values.config) throw new UsageError('--config is required');
  const level = values['log-level'];
  if (!LEVELS.includes(level))
    throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  const config = loadAgentConfig(values.config);
  const logger = createAgentLogger(level);
  const version = agentVersion();
  const connectors = await loadConnectors(config, logger, version);
  const agent = await startAgent(config, { logger, connectors, version });
  handleSignals(() => agent.close(), logger);
}

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'log-level': { type: 'string', default: 'info' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;

/** JSON lines on stdout; credentials redacted wherever a log call might carry them. */
function createAgentLogger(level: string): Logger {
  const options = {
    name: 'idhub-agent',
    level,
    redact: {
      paths: ['authorization', '*.authorization', 'password', '*.password', 'token', '*.token'],
      censor: '[redacted]',
    },
  };
  // Synchronous, so the last lines before process.exit() are not lost.
  return pino(options, pino.destination({ dest: 1, sync: true }));
}

/** First signal: graceful shutdown, then exit 0. A second one exits at once. */
function handleSignals(close: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'signal received: shutting down');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** True when this module is the program (the bundle, or `tsx agent/main.ts`), not imported. */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return fs.realpathSync(script) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  runAgentCli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(
      `idhub-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
