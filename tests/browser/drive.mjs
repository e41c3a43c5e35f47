// Drives Debian's Chromium through the console and a host page; run by tests/browser/test_console.py.
//
// Input: the JSON in FLEXPLUGINS_BROWSER (server URL, credentials, SIDs, host page URL, output
// directory). Output: one JSON line on stdout with what the pages showed, for the test to check.
// Any step that does not find what it expects throws, and the script exits with status 1.
import { join } from "node:path";
import { launch } from "./chromium.mjs";

const cfg = JSON.parse(process.env.FLEXPLUGINS_BROWSER);
const out = {};

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function shot(page, name) {
  await page.screenshot({ path: join(cfg.screenshots, `${name}.png`), fullPage: true });
}

async function confirmAction(page, label, name) {
  // Every action first shows a confirmation page; the POST happens only from its button.
  check((await page.locator("form[action^='/console/actions/'] button").count()) === 1, "no confirmation form");
  check((await page.locator("input[name=csrf]").first().inputValue()).length > 20, "no CSRF token on the form");
  await shot(page, name);
  await Promise.all([page.waitForURL(/\/console\/releases/), page.getByRole("button", { name: label }).click()]);
}

const context = await launch({ viewport: { width: 1280, height: 860 } });
try {
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  page.on("pageerror", (error) => consoleErrors.push(String(error)));

  // Sign in.
  await page.goto(`${cfg.url}/console/`);
  check(page.url().includes("/console/login"), `not sent to sign in: ${page.url()}`);
  await page.fill("input[name=sid]", cfg.account_sid);
  await page.fill("input[name=secret]", "not-the-right-token");
  await page.click("button[type=submit]");
  out.bad_sign_in = await page.locator("pre.vendor-error").innerText();
  await page.fill("input[name=sid]", cfg.account_sid);
  await page.fill("input[name=secret]", cfg.auth_token);
  await shot(page, "01-sign-in");
  await Promise.all([page.waitForURL(/\/console\/releases/), page.click("button[type=submit]")]);
  const cookies = await context.cookies();
  out.session_cookie = cookies.find((c) => c.name === "flexplugins_console");

  await page.goto(`${cfg.url}/console/plugins`);
  out.plugins = await page.locator("tbody tr td:first-child").allInnerTexts();
  out.live_before = await page.locator("tbody tr td.live").allInnerTexts();
  await shot(page, "02-plugins");
  await page.click(`a[href='/console/plugins/${cfg.plugin_sid}']`);
  out.versions = await page.locator("tbody tr td:first-child strong").allInnerTexts();
  await shot(page, "03-plugin-versions");

  await page.goto(`${cfg.url}/console/configurations/${cfg.configuration_a}`);
  out.configuration_a_plugins = await page.locator("tbody tr td:nth-child(2) a").allInnerTexts();
  await shot(page, "04-configuration");

  // Release configuration A, then B, from the configurations page.
  for (const [sid, name] of [[cfg.configuration_a, "05-confirm-release"], [cfg.configuration_b, null]]) {
    await page.goto(`${cfg.url}/console/configurations`);
    await page.click(`tr[data-sid='${sid}'] a:has-text('Release')`);
    await confirmAction(page, "Release", name || "05b-confirm-release");
    out.notice = await page.locator(".notice").innerText();
  }
  await page.goto(`${cfg.url}/console/configurations`);
  out.active_after_release = await page.locator("tr:has(.badge.active)").getAttribute("data-sid");
  await shot(page, "06-configurations");

  // The timeline marks B's release active; roll back to A's.
  await page.goto(`${cfg.url}/console/releases`);
  check((await page.locator("ol.timeline li.release").count()) === 2, "expected two releases before the rollback");
  out.active_before_rollback = await page.locator("li.release.is-active").getAttribute("data-sid");
  await page.locator("li.release:not(.is-active) a:has-text('Roll back')").click();
  await confirmAction(page, "Roll back", "07-confirm-rollback");
  out.rollback_notice = await page.locator(".notice").innerText();
  out.timeline = await page.locator("ol.timeline li.release").evaluateAll((items) =>
    items.map((li) => ({
      sid: li.dataset.sid,
      active: li.classList.contains("is-active"),
      configuration: li.querySelector("a[href^='/console/configurations/'] code").textContent,
      by: li.querySelector(".by code").textContent,
      change: li.querySelector(".change").textContent,
      rollback: li.querySelector("a[href^='/console/actions/rollback/']") !== null,
    })),
  );
  await shot(page, "08-release-timeline");

  // What is live after the rollback: the Live column, and no live Archive button where the server
  // would refuse it, but a disabled one with the reason on screen.
  await page.goto(`${cfg.url}/console/plugins`);
  out.live = await page.locator("tbody tr").evaluateAll((rows) =>
    rows.map((tr) => ({
      name: tr.children[0].textContent.trim(),
      live: tr.querySelector("td.live").textContent.trim(),
      archive_link: tr.querySelector("a[href^='/console/actions/archive-plugin/']") !== null,
      archive_disabled: tr.querySelector("button[disabled]") !== null,
      reason: tr.querySelector(".reason")?.textContent.trim() ?? null,
    })),
  );
  const firstRow = page.locator(`tr[data-sid='${cfg.plugin_sid}']`);
  check(await firstRow.getByRole("button", { name: "Archive…" }).isDisabled(), "first's Archive is not disabled");
  check(await firstRow.locator(".reason").isVisible(), "first's refusal reason is not on screen");
  await shot(page, "12-plugins-live");
  await page.click(`a[href='/console/plugins/${cfg.plugin_sid}']`);
  out.live_line = await page.locator(".live-version").innerText();
  out.live_versions = await page.locator("tbody tr").evaluateAll((rows) =>
    rows.map((tr) => ({
      version: tr.querySelector("strong").textContent,
      live: tr.classList.contains("is-live"),
      reason: tr.querySelector(".reason")?.textContent.trim() ?? null,
    })),
  );
  await shot(page, "13-plugin-live-version");

  // A refusal shows the vendor's error: archiving the configuration that is live.
  await page.goto(`${cfg.url}/console/actions/archive-configuration/${cfg.configuration_a}`);
  await page.getByRole("button", { name: "Archive" }).click();
  out.refusal = await page.locator("pre.vendor-error").innerText();
  await shot(page, "09-refused-archive");

  await page.goto(`${cfg.url}/console/diff?from=${cfg.configuration_b}&to=${cfg.configuration_a}`);
  out.diff = await page.locator("table.diff tbody tr").evaluateAll((rows) =>
    rows.map((tr) => [tr.children[0].textContent, tr.children[1].textContent]),
  );
  await shot(page, "10-diff");
  out.console_errors = consoleErrors;

  // A host application on another origin loads the active release with the loader script.
  const host = await context.newPage();
  host.on("pageerror", (error) => consoleErrors.push(String(error)));
  await host.goto(cfg.host_page);
  await host.waitForFunction(() => window.__result !== undefined, null, { timeout: 20000 });
  out.host = await host.evaluate(() => ({ ran: window.__ran || [], result: window.__result }));
  await shot(host, "11-host-page");
  process.stdout.write(JSON.stringify(out) + "\n");
} finally {
  await context.close();
}
