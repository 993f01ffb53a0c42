import { describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../sync/queues.ts';
import { saveScreenshot, useBrowserApp } from '../../test/browser.ts';
import { createHarness, OPERATOR_TOKEN } from '../../test/harness.ts';

const h = createHarness();
const session = useBrowserApp(h.app);

describe('queue dashboard in a real browser', () => {
  it('shows every queue to the operator after HTTP Basic login', async (ctx) => {
    const browser = session.browser();
    if (!browser) return ctx.skip('chromium is unavailable (see the warning above)');
    const page = await browser.newPage({
      basicAuth: { username: 'operator', password: OPERATOR_TOKEN },
      loopbackOnly: true,
    });
    const failed: string[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).hostname === '127.0.0.1' && r.status() >= 400) {
        failed.push(`${r.status()} ${r.url()}`);
      }
    });
    const res = await page.goto(`${session.url()}/admin/queues`);
    expect(res?.status()).toBe(200);
    for (const name of QUEUE_NAMES) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 20_000 });
    }
    // The overview (queue cards with their counts) has loaded, not just the sidebar.
    await page.getByText('Loading...').first().waitFor({ state: 'detached', timeout: 20_000 });
    expect(await page.title()).toBe('idhub queues');
    expect(failed).toEqual([]);
    await saveScreenshot(page, 'queue-dashboard');
  });

  it('shows nothing without credentials', async (ctx) => {
    const browser = session.browser();
    if (!browser) return ctx.skip('chromium is unavailable (see the warning above)');
    const page = await browser.newPage({ loopbackOnly: true });
    // Chromium answers the Basic challenge with nothing and gives up on the page.
    await expect(page.goto(`${session.url()}/admin/queues`)).rejects.toThrow(
      /ERR_INVALID_AUTH_CREDENTIALS/,
    );
  });
});
