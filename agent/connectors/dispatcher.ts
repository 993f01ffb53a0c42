/**
 * createConnectorSet: runs protocol commands against a configuration's data sources. One
 * connector per data source, created on first use and kept (connections, paging state).
 * Refusals come before any connection: unknown data source, kind mismatch, host not allowed.
 */
import type { Logger } from 'pino';
import { assertHostAllowed, type DataSourceConfig } from '../config/index.ts';
import {
  type Command,
  type CommandResult,
  failure,
  PROTOCOL_VERSION,
  type ResultData,
} from '../protocol.ts';
import { raceAbort, toFailure, toSuccess } from './results.ts';
import { type AnyRunner, openRunner, runExport, urlOf } from './runner.ts';
import type { ConnectorSet } from './types.ts';

export interface ConnectorSetOptions {
  /** Hosts connectors may reach; `'any'` skips the check (the hub's direct mode). */
  allowHosts: string[] | 'any';
  logger?: Logger;
  agentVersion: string;
  /** Cap on one result's JSON; none when absent (the agent's runner caps while encoding). */
  maxResultBytes?: number;
}

/** setTimeout's limit: a deadline further out is treated as this far. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function deadlineSignal(deadline: string, signal?: AbortSignal): AbortSignal {
  const ms = Math.min(Math.max(0, Date.parse(deadline) - Date.now()), MAX_TIMER_MS);
  const timer = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timer]) : timer;
}

export function createConnectorSet(
  dataSources: Record<string, DataSourceConfig>,
  opts: ConnectorSetOptions,
): ConnectorSet {
  const runners = new Map<string, Promise<AnyRunner>>();
  const log = opts.logger;
  let closed = false;

  function runnerFor(name: string, config: DataSourceConfig): Promise<AnyRunner> {
    let runner = runners.get(name);
    if (!runner) {
      runner = openRunner(config);
      runners.set(name, runner);
      runner.catch(() => runners.delete(name)); // e.g. an unreadable CA file: retry next time
    }
    return runner;
  }

  async function dispatch(command: Command, signal?: AbortSignal): Promise<CommandResult> {
    if (command.kind === 'ping') {
      const data = {
        protocolVersion: PROTOCOL_VERSION,
        agentVersion: opts.agentVersion,
        time: new Date().toISOString(),
      };
      return toSuccess('ping', data, opts.maxResultBytes);
    }
    if (closed) return failure('refused', 'the connectors are shut down');
    const name = command.dataSource;
    const config = Object.hasOwn(dataSources, name) ? dataSources[name] : undefined;
    if (!config) return failure('refused', `no data source named ${name} on this agent`);
    if (command.kind === 'export' && command.payload.connector !== config.type) {
      const asked = command.payload.connector;
      return failure('refused', `data source ${name} is ${config.type}, not ${asked}`);
    }
    if (opts.allowHosts !== 'any')
      assertHostAllowed({ allowHosts: opts.allowHosts }, urlOf(config));
    const abort = deadlineSignal(command.deadline, signal);
    const runner = await raceAbort(runnerFor(name, config), abort, command.deadline);
    const data = await raceAbort(call(runner, command, abort), abort, command.deadline);
    return toSuccess(command.kind, data, opts.maxResultBytes);
  }

  return {
    async execute(command, signal) {
      const started = performance.now();
      const result = await dispatch(command, signal).catch((e: unknown) => toFailure(e, log));
      const ms = Math.round(performance.now() - started);
      const { id, kind, dataSource } = command;
      if (result.ok) log?.debug({ id, kind, dataSource, ms }, 'command done');
      else log?.info({ id, kind, dataSource, ms, error: result.error }, 'command failed');
      return result;
    },
    async close() {
      closed = true;
      const all = [...runners.values()];
      runners.clear();
      await Promise.allSettled(all.map(async (r) => (await r).close()));
    },
  };
}

type AnyData = ResultData<Exclude<Command['kind'], 'ping'>>;

function call(runner: AnyRunner, command: Command, signal: AbortSignal): Promise<AnyData> {
  switch (command.kind) {
    case 'testConnection':
      return runner.testConnection(signal);
    case 'search':
      return runner.search(command.payload, signal);
    case 'export':
      return (
        runExport(runner, command.payload, signal) ??
        Promise.reject(new Error('export kind mismatch'))
      );
    case 'listAttributes':
      return runner.listAttributes(signal);
    case 'listResourceTypes':
      return runner.listResourceTypes(signal);
    default:
      return Promise.reject(new Error(`unexpected command kind ${command.kind}`));
  }
}
