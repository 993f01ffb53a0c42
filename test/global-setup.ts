import type { TestProject } from 'vitest/node';
import { startTestServices } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

/** One private PostgreSQL + Redis for the whole integration run; tests isolate by tenant. */
export default async function setup(project: TestProject) {
  const services = await startTestServices();
  project.provide('databaseUrl', services.databaseUrl);
  project.provide('redisUrl', services.redisUrl);
  return () => services.stop();
}
