/**
 * The status page in a real browser (Debian's headless Chromium, driven by playwright-core):
 * it loads without any build step, shows figures that match /metrics, and updates live.
 * Skips, saying so, where Chromium is not installed (.ci/run installs it).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { startTestServer, type TestServer } from "../support/server.js";

const CHROMIUM = process.env.LOGBOOK_CHROMIUM ?? "/usr/bin/chromium";
const SKIP = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;
const PACKAGE = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** Playwright starts Chromium on a fresh, empty profile of its own; the server stops if it cannot. */
function launchBrowser(s: TestServer): Promise<Browser> {
  return chromium
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
}

test("the status page shows the live state and matches /metrics", { skip: SKIP }, async () => {
  const s = await startTestServer();
  const browser = await launchBrowser(s);
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
    assert.equal(await page.textContent("#checkpoint-age"), "none yet", "no checkpoint: no age, not the uptime");
    assert.equal(await page.textContent("#data-dir"), resolve(s.dir));
    assert.equal(await page.textContent("#listening"), s.url);
    assert.equal(await page.textContent("#version"), PACKAGE.version);
    assert.equal(await page.textContent("#sync-mode"), "always");
    assert.match((await page.textContent("#disk-free")) ?? "", /^\d+(\.\d)? [KMGT]?i?B of \d+(\.\d)? [KMGT]?i?B$/);
    assert.match((await page.textContent("#memory-rss")) ?? "", /^\d+\.\d MiB$/);
    assert.match((await page.textContent("#memory-detail")) ?? "", /^JS heap .* · keys and values .* \(estimate\)$/);
    assert.match(
      (await page.textContent("#error-rates")) ?? "",
      /^4xx \d+\.\d \/ s · 5xx \d+\.\d \/ s \(\d+ and 0 since start\)$/,
    );
    await s.server.store.checkpoint();
    await page.waitForFunction(`/^\\d+ s$/.test(document.getElementById("checkpoint-age")?.textContent ?? "")`, undefined, {
      timeout: 10_000,
    });

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

test("a protected status page asks for a token, then shows the figures", { skip: SKIP }, async () => {
  const token = "acme-token-0123456789";
  const s = await startTestServer({ tokens: [{ tenant: "acme", token }], protectObservability: true });
  const browser = await launchBrowser(s);
  try {
    await s.call("PUT", "/v1/kv/a", { json: 1, token });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(s.url, { waitUntil: "load" });
    await page.waitForFunction(`document.getElementById("state")?.textContent === "a token is needed"`, undefined, {
      timeout: 10_000,
    });
    assert.equal(await page.textContent("#keys"), "–", "no figures without a token");
    await page.fill("#token", "wrong-token-0123456789");
    await page.click("#token-form button");
    await page.waitForFunction(`document.getElementById("state")?.textContent === "the token was refused"`, undefined, {
      timeout: 10_000,
    });
    await page.fill("#token", token);
    await page.click("#token-form button");
    await page.waitForFunction(`document.getElementById("keys")?.textContent === "1"`, undefined, { timeout: 10_000 });
    assert.equal(await page.isHidden("#token-form"), true);
    assert.deepEqual(errors, [], "no script errors");
  } finally {
    await browser.close();
    await s.stop();
  }
});
