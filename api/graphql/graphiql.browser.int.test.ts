import { describe, expect, it } from 'vitest';
import { saveScreenshot, useBrowserApp } from '../../test/browser.ts';
import { createHarness } from '../../test/harness.ts';

const h = createHarness();
const session = useBrowserApp(h.app);

describe('GraphiQL in a real browser', () => {
  it('runs a query with the admin token entered as a header', async (ctx) => {
    const browser = session.browser();
    if (!browser) return ctx.skip('chromium is unavailable (see the warning above)');
    const t = await h.tenant();
    const page = await browser.newPage();
    const res = await page.goto(`${session.url()}/graphql`);
    expect(res?.status()).toBe(200);
    // GraphiQL is served from the npm package (@graphql-yoga/render-graphiql): no CDN needed.
    await page.locator('.graphiql-container').first().waitFor({ timeout: 30_000 });
    await page
      .getByRole('button', { name: /headers/i })
      .first()
      .click();
    // Pasted, not typed: the editors auto-close brackets and quotes as keys are typed.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    const paste = async (editor: ReturnType<typeof page.locator>, text: string) => {
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.evaluate((t) => navigator.clipboard.writeText(t), text);
      await page.keyboard.press('ControlOrMeta+V');
    };
    await paste(
      page.locator('.graphiql-editor-tool .graphiql-editor').last(),
      JSON.stringify({ Authorization: `Bearer ${t.adminToken}` }),
    );
    await paste(
      page.locator('.graphiql-query-editor .graphiql-editor').first(),
      '{ viewer { kind tenant { status } } }',
    );
    await page.locator('.graphiql-execute-button').click();
    try {
      await page.locator('.result-window').getByText('TENANT_TOKEN').waitFor({ timeout: 15_000 });
    } catch (e) {
      await saveScreenshot(page, 'graphiql-failure');
      throw e;
    }
    await saveScreenshot(page, 'graphiql');
  });
});
