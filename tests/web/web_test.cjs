// The web page in a real browser: headless Debian Chromium driven by playwright-core loads the
// page from a running `podmedic demo` (with a fake Ollama), sees an incident, asks a question,
// diagnoses an incident and sees the answer and the evidence panel. Keeps a screenshot.
//
//   node tests/web/web_test.cjs PODMEDIC_BINARY OUTPUT_DIR
// playwright-core is found through NODE_PATH (scripts/setup.sh --tools installs it in
// .tools/web/node_modules); Chromium at $CHROMIUM or /usr/bin/chromium.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");
const { startOllama, startDemo } = require("../demo_support.cjs");

const [binary, outDir] = process.argv.slice(2);
if (!binary || !outDir) {
  console.error("usage: web_test.cjs PODMEDIC_BINARY OUTPUT_DIR");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
const ANSWER = "The container exceeds its 256Mi memory limit; raise it or cap the JVM heap.";
const prompts = [];

function fail(msg) {
  throw new Error(msg);
}

(async () => {
  const ollama = await startOllama(ANSWER, prompts);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "podmedic-web-"));
  const configPath = path.join(tmp, "podmedic.yaml");
  fs.writeFileSync(configPath,
    "ollama:\n  url: http://127.0.0.1:" + ollama.address().port + "\n" +
    "diagnosis:\n  waitBeforeNotify: 2s\n");
  const demo = startDemo(binary, configPath);
  let browser;
  let page;
  try {
    const url = await demo.url;
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--no-first-run", "--disable-extensions"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors = [];
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    await page.goto(url);
    if ((await page.title()) !== "podmedic") fail("unexpected title " + (await page.title()));

    // An incident from the scripted failures appears (polled from /api/incidents).
    await page.locator(".incident").first().waitFor({ timeout: 30000 });
    const firstText = await page.locator(".incident").first().innerText();
    if (!/OOMKilled|CrashLoopBackOff|ImagePullBackOff/.test(firstText)) fail("incident without a reason: " + firstText);
    // Its LLM diagnosis lands on the incident.
    await page.locator(".incident details summary", { hasText: "Diagnosis (mistral)" }).first()
      .waitFor({ timeout: 30000 });

    // Ask.
    await page.fill("#question", "What does exit code 137 mean?");
    await page.click("#send");
    const askAnswer = page.locator(".msg.bot.answer").last();
    await askAnswer.waitFor({ timeout: 20000 });
    if (!(await askAnswer.innerText()).includes(ANSWER)) fail("ask answer missing");

    // Diagnose the payments incident from its card: the answer and the evidence panel.
    const card = page.locator(".incident", { hasText: "payments/api" }).first();
    await card.waitFor({ timeout: 30000 });
    await card.locator(".diagnose-btn").click();
    if ((await page.inputValue("#namespace")) !== "payments") fail("namespace not filled in");
    await page.click("#send");
    const diag = page.locator(".msg.bot.answer").nth(1);
    await diag.waitFor({ timeout: 30000 });
    if (!(await diag.innerText()).includes(ANSWER)) fail("diagnose answer missing");
    const evidence = diag.locator("details", { hasText: "Evidence sent to the LLM" });
    await evidence.locator("summary").click();
    const evidenceText = await evidence.locator("pre").innerText();
    if (!evidenceText.includes("== Pod ==")) fail("evidence panel empty: " + evidenceText.slice(0, 200));
    if (evidenceText.includes("hunter2")) fail("a secret reached the page");
    if (!prompts.some((p) => p.includes("BEGIN EVIDENCE"))) fail("no diagnose prompt reached the LLM");
    if (prompts.some((p) => p.includes("hunter2"))) fail("a secret reached the LLM");
    if (consoleErrors.length) fail("console errors: " + consoleErrors.join("; "));

    await page.screenshot({ path: path.join(outDir, "web-page.png"), fullPage: true });
    console.log("web page OK; screenshot at " + path.join(outDir, "web-page.png"));
  } catch (e) {
    if (page) await page.screenshot({ path: path.join(outDir, "web-page-failure.png"), fullPage: true }).catch(() => {});
    console.error("FAILED: " + e.message);
    console.error("--- demo output ---\n" + demo.output().slice(-4000));
    process.exitCode = 1;
  } finally {
    if (browser) await browser.close();
    demo.child.kill("SIGTERM");
    ollama.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
})();
