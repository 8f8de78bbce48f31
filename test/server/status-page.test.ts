/**
 * The status page in a real browser (Debian's headless Chromium, driven by playwright-core):
 * it loads without any build step, shows figures that match /metrics, and updates live.
 * Skips, saying so, where Chromium is not installed (.ci/run installs it).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { startTestServer } from "../support/server.js";

const CHROMIUM = process.env.LOGBOOK_CHROMIUM ?? "/usr/bin/chromium";

test("the status page shows the live state and matches /metrics", {
  skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`,
}, async () => {
  const s = await startTestServer();
  // Playwright starts Chromium on a fresh, empty profile of its own.
  const browser = await chromium
    .launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    })
    .catch(async (error: unknown) => {
      await s.stop();
      throw error;
    });
  try {
    for (let i = 0; i < 10; i++) await s.call("PUT", `/v1/kv/p${i}`, { json: i });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(s.url, { waitUntil: "load" });
    assert.equal(await page.title(), "Logbook");
    // Page-side expressions are strings: this file is compiled without the DOM's types.
    await page.waitForFunction("Number(document.body.dataset.updates ?? 0) >= 1", undefined, { timeout: 10_000 });
    const shown = Number(await page.textContent("#durable-lsn"));
    const metrics = (await s.call("GET", "/metrics")).text;
    const durable = Number(/^logbook_log_durable_lsn (\d+)$/m.exec(metrics)?.[1]);
    assert.equal(shown, durable, "the page's durable LSN is the one /metrics reports");
    assert.equal(Number((await page.textContent("#keys"))?.replaceAll(",", "")), 10);
    assert.match((await page.textContent("#batch-size")) ?? "", /^\d+(\.\d)? \/ \d+$/);
    assert.match((await page.textContent("#checkpoint-age")) ?? "", /^\d+ s$/);

    // It updates: more writes show up without a reload.
    for (let i = 10; i < 30; i++) await s.call("PUT", `/v1/kv/p${i}`, { json: i });
    await page.waitForFunction(`Number(document.getElementById("durable-lsn")?.textContent) > ${shown}`, undefined, {
      timeout: 10_000,
    });
    await page.waitForFunction(`document.getElementById("keys")?.textContent === "30"`, undefined, { timeout: 10_000 });
    assert.deepEqual(errors, [], "no script errors");
  } finally {
    await browser.close();
    await s.stop();
  }
});
