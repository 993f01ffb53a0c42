/**
 * Real-browser tests: Debian's chromium driven by playwright-core, against an in-process app
 * served on loopback.
 *
 *   const browser = await launchBrowser();          // undefined (reason printed) when unavailable
 *   if (!browser) return ctx.skip('no chromium');
 *   const hub = await serveApp(harness.app);
 *   const page = await browser.newPage({ basicAuth: { username: 'operator', password } });
 *   await page.goto(`${hub.url}/admin/queues`);
 *   await saveScreenshot(page, 'queue-dashboard');
 *   await browser.close(); await hub.close();
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
/** Where browser tests leave screenshots (gitignored). */
export const TEST_OUTPUT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../test-output',
);

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const INSTALL_TIMEOUT_MS = 15 * 60_000;

function sh(file: string, args: string[], timeout: number): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(
      file,
      args,
      { timeout, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
      (err, _out, stderr) =>
        err ? reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || err}`)) : resolve(),
    ),
  );
}

/**
 * Makes sure `/usr/bin/chromium` exists: installs Debian's package when missing and we are
 * root (CI), under an flock so parallel test files install it once. Returns why not otherwise.
 */
export async function ensureChromium(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (existsSync(CHROMIUM)) return { ok: true };
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: `${CHROMIUM} is missing: run \`apt-get install -y chromium\`` };
  }
  const script = `test -x ${CHROMIUM} || { apt-get update -q && apt-get install -y -q chromium; }`;
  await sh('flock', ['/tmp/idhub-chromium-install.lock', 'sh', '-c', script], INSTALL_TIMEOUT_MS);
  return existsSync(CHROMIUM)
    ? { ok: true }
    : { ok: false, reason: `apt-get ran but ${CHROMIUM} is still missing` };
}

export interface PageOptions {
  /** HTTP Basic credentials the browser answers a 401 challenge with. */
  basicAuth?: { username: string; password: string };
  /** Headers sent with every request of the page (e.g. `Authorization: Bearer …`). */
  headers?: Record<string, string>;
  /** Abort every request that leaves loopback (web fonts, CDNs): hermetic, offline-safe pages. */
  loopbackOnly?: boolean;
}

export interface TestBrowser {
  browser: Browser;
  /** A page in its own context (own cookies, storage and credentials). */
  newPage(opts?: PageOptions): Promise<Page>;
  /** Closes every page and the browser. */
  close(): Promise<void>;
}

/**
 * Launches headless chromium (installing it first when needed; allow minutes for that in the
 * calling hook). Playwright gives each launch a fresh temporary profile (`--user-data-dir`) and
 * deletes it on close. Resolves `undefined`, after printing why, when no browser can be had.
 */
export async function launchBrowser(): Promise<TestBrowser | undefined> {
  const found = await ensureChromium();
  if (!found.ok) {
    console.warn(`browser tests skipped: ${found.reason}`);
    return undefined;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async newPage(opts = {}) {
      const context = await browser.newContext({
        httpCredentials: opts.basicAuth,
        extraHTTPHeaders: opts.headers,
        viewport: { width: 1280, height: 800 },
      });
      contexts.push(context);
      if (opts.loopbackOnly) {
        await context.route(
          (url) => !LOOPBACK.has(url.hostname),
          (route) => route.abort('blockedbyclient'),
        );
      }
      return context.newPage();
    },
    async close() {
      await Promise.allSettled(contexts.map((c) => c.close()));
      await browser.close();
    },
  };
}

export interface ServedApp {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

/** Serves an in-process app (anything with Hono's `fetch`) on a free loopback port. */
export async function serveApp(app: {
  fetch: (req: Request) => Response | Promise<Response>;
}): Promise<ServedApp> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** Saves a full-page PNG as `test-output/<name>.png` and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await fs.mkdir(TEST_OUTPUT, { recursive: true });
  const file = path.join(TEST_OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * A test file's browser session: serves `app` on loopback and launches Chromium once for the
 * file (beforeAll), closing both afterwards. `browser()` is undefined when Chromium could not
 * be had; tests then skip with the reason already printed.
 */
export function useBrowserApp(app: Parameters<typeof serveApp>[0]) {
  let browser: TestBrowser | undefined;
  let hub: ServedApp | undefined;
  beforeAll(async () => {
    hub = await serveApp(app);
    browser = await launchBrowser();
  }, 15 * 60_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });
  return {
    browser: () => browser,
    url: () => {
      if (!hub) throw new Error('useBrowserApp: the app is not served yet (use it inside a test)');
      return hub.url;
    },
  };
}
