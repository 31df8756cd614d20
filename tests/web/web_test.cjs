// The web page in a real browser: headless Debian Chromium driven by playwright-core loads the
// page from a running `podmedic demo` (with a fake Ollama), sees an incident, asks a question,
// diagnoses an incident and sees the answer and the evidence panel. Keeps a screenshot.
//
//   node tests/web/web_test.cjs PODMEDIC_BINARY OUTPUT_DIR
// playwright-core is found through NODE_PATH (scripts/setup.sh --tools installs it in
// .tools/web/node_modules); Chromium at $CHROMIUM or /usr/bin/chromium.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

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

// A fake Ollama per reference/protocols.md §7: /api/tags and /api/chat (NDJSON when streaming).
function startOllama() {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url === "/api/tags") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ models: [{ name: "mistral:latest", model: "mistral:latest" }] }));
        return;
      }
      if (req.url !== "/api/chat") {
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: "not found" }));
        return;
      }
      const j = JSON.parse(body);
      prompts.push(j.messages[j.messages.length - 1].content);
      const done = { model: "mistral", created_at: new Date().toISOString(),
        message: { role: "assistant", content: "" }, done: true, done_reason: "stop" };
      if (j.stream === false) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ ...done, message: { role: "assistant", content: ANSWER } }));
        return;
      }
      res.writeHead(200, { "Content-Type": "application/x-ndjson" });
      for (const word of ANSWER.split(/(?<= )/)) {
        res.write(JSON.stringify({ model: "mistral", created_at: new Date().toISOString(),
          message: { role: "assistant", content: word }, done: false }) + "\n");
      }
      res.end(JSON.stringify(done) + "\n");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function startDemo(configPath) {
  const child = spawn(binary, ["demo", "--listen", "127.0.0.1:0", "--step", "500ms", "--config", configPath],
    { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("demo did not print its web page URL:\n" + out)), 30000);
    const onData = (d) => {
      out += d;
      const m = out.match(/web page: (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => reject(new Error("demo exited with " + code + ":\n" + out)));
  });
  return { child, url, output: () => out };
}

(async () => {
  const ollama = await startOllama();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "podmedic-web-"));
  const configPath = path.join(tmp, "podmedic.yaml");
  fs.writeFileSync(configPath,
    "ollama:\n  url: http://127.0.0.1:" + ollama.address().port + "\n" +
    "diagnosis:\n  waitBeforeNotify: 2s\n");
  const demo = startDemo(configPath);
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
