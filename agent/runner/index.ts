export { type RunningAgent, type StartOptions, startAgent } from './agent.ts';
export { backoffDelay, type DelayPolicy } from './backoff.ts';
export type { AgentStatus } from './healthz.ts';
