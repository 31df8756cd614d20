// The web page in a real browser: headless Debian Chromium driven by playwright-core loads the
// page from a running `podmedic demo` (with a fake Ollama) and checks the triage console: the
// cluster name, incidents with open/resolved times and duration, facts without the header or raw
// UIDs, kubectl next steps, filters and search, Ask mode without the Diagnose fields, Ask and
// Diagnose answers with the evidence panel, Diagnose with the LLM down (the rules-based facts, no
// raw error), severity/changes/runbook and hostile entries (a mocked /api/incidents), and no
// horizontal overflow at 420 px. Keeps screenshots in OUTPUT_DIR (web-page.png, web-page-420.png,
// web-page-no-llm.png, web-page-mocked.png, and docs-web-page.png: the README's picture).
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
// Set to true to make the fake Ollama drop /api/chat connections, as a dead or absent LLM does.
let ollamaDown = false;

function fail(msg) {
  throw new Error(msg);
}

(async () => {
  const ollama = await startOllama(ANSWER, prompts, () => ollamaDown);
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
    const watchErrors = (p) => {
      // A 503 from /ask or /diagnose (no LLM) is the API's answer, not a page error.
      p.on("console", (m) => {
        if (m.type() === "error" && !/status of 503/.test(m.text())) consoleErrors.push(m.text());
      });
      p.on("pageerror", (e) => consoleErrors.push(String(e)));
    };
    watchErrors(page);
    await page.goto(url);
    if (!(await page.title()).startsWith("podmedic")) fail("unexpected title " + (await page.title()));

    // The cluster name in the header (served beside the incidents, so shown even with none).
    await page.locator("#cluster", { hasText: "cluster demo" }).waitFor({ timeout: 10000 });

    // Ask mode (the default) hides the Diagnose fields; Diagnose shows them.
    if (await page.isVisible("#namespace")) fail("Ask mode shows the namespace field");
    if (await page.isVisible("#pod")) fail("Ask mode shows the pod field");
    await page.check("input[name=mode][value=diagnose]");
    if (!(await page.isVisible("#namespace"))) fail("Diagnose mode hides the namespace field");
    await page.check("input[name=mode][value=ask]");
    if (await page.isVisible("#namespace")) fail("back in Ask mode the namespace field shows");

    // An incident from the scripted failures appears (polled from /api/incidents).
    await page.locator(".incident").first().waitFor({ timeout: 30000 });
    const firstText = await page.locator(".incident").first().innerText();
    if (!/OOMKilled|CrashLoopBackOff|ImagePullBackOff/.test(firstText)) fail("incident without a reason: " + firstText);
    // Its LLM diagnosis lands on the incident.
    await page.locator(".incident details summary", { hasText: "Diagnosis (mistral)" }).first()
      .waitFor({ timeout: 30000 });

    // The payments card: times, facts without the header and without raw UIDs, next steps.
    const card = page.locator(".incident", { hasText: "payments/api" }).first();
    await card.waitFor({ timeout: 30000 });
    const times = await card.locator(".times").innerText();
    if (!/^opened [^·]+ · (open for \d+s|resolved [^·]+ \(\d+s ago\) · lasted \d+s)$/.test(times)) fail("times: " + times);
    const facts = await card.locator("ul.facts").innerText();
    if (!/exit 2/.test(facts)) fail("facts without the exit code: " + facts);
    if (/^\[payments\]/.test(facts) || facts.includes("CrashLoopBackOff Deployment/api")) fail("facts repeat the header: " + facts);
    if (/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.test(facts)) fail("facts show a raw UID: " + facts);
    if (/_payments\(/.test(facts)) fail("facts show kubelet's pod_namespace(uid): " + facts);
    const next = card.locator("details.next-steps");
    await next.locator("summary").click();
    const steps = await next.locator("pre").innerText();
    for (const re of [/^kubectl -n payments describe pod api-[a-z0-9]+-[a-z0-9]+$/m,
      /^kubectl -n payments logs api-[a-z0-9]+-[a-z0-9]+ -c app --previous$/m,
      /^kubectl -n payments get events --field-selector involvedObject.name=api-/m]) {
      if (!re.test(steps)) fail("next steps miss " + re + ":\n" + steps);
    }
    // Severity from the API entry (detect.severity defaults: OOMKilled critical, others warning).
    if ((await card.locator(".severity").innerText()).toLowerCase() !== "warning") fail("payments severity");
    const oomCard = page.locator(".incident", { hasText: "shop/cart" }).first();
    if ((await oomCard.locator(".severity").innerText()).toLowerCase() !== "critical") fail("OOMKilled severity");
    await oomCard.locator("details.next-steps summary").click();
    const oomSteps = await oomCard.locator("details.next-steps pre").innerText();
    if (!oomSteps.includes("kubectl -n shop get deployment cart -o jsonpath='{.spec.template.spec.containers[*].resources}'"))
      fail("OOMKilled next steps miss the resources: " + oomSteps);

    // Filters and search: every card shown matches, and each filter narrows to something.
    const cardsText = async () => page.locator(".incident").allInnerTexts();
    const expectAll = async (what, pred) => {
      const texts = await cardsText();
      if (!texts.length) fail(what + ": nothing shown");
      for (const t of texts) if (!pred(t)) fail(what + ": a card that does not match:\n" + t);
    };
    await page.selectOption("#filter-namespace", "payments");
    await expectAll("namespace payments", (t) => t.includes("payments/"));
    await page.selectOption("#filter-namespace", "");
    await page.selectOption("#filter-reason", "ImagePullBackOff");
    await expectAll("reason ImagePullBackOff", (t) => t.includes("ImagePullBackOff") && t.includes("web/frontend"));
    await page.selectOption("#filter-reason", "");
    await page.fill("#search", "frontend");
    await expectAll("search frontend", (t) => t.includes("web/frontend"));
    await page.fill("#search", "no-such-workload-anywhere");
    await page.locator("#no-match").waitFor({ state: "visible", timeout: 5000 });
    await page.fill("#search", "");
    // The demo resolves incidents after five healthy steps: a resolved one shows when and how long.
    await page.selectOption("#filter-state", "resolved");
    await page.locator(".incident.resolved").first().waitFor({ timeout: 30000 });
    await expectAll("state resolved", (t) => /resolved [^·]+ ago\) · lasted \d+s/.test(t));
    await page.selectOption("#filter-state", "open");
    await page.locator(".incident").first().waitFor({ timeout: 30000 });
    await expectAll("state open", (t) => /open for \d+/.test(t) && !t.includes("lasted"));
    await page.selectOption("#filter-state", "");

    // Ask.
    await page.fill("#question", "What does exit code 137 mean?");
    await page.click("#send");
    const askAnswer = page.locator(".msg.bot.answer").last();
    await askAnswer.waitFor({ timeout: 20000 });
    if (!(await askAnswer.innerText()).includes(ANSWER)) fail("ask answer missing");

    // Diagnose the payments incident from its card: the answer and the evidence panel.
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
    await page.screenshot({ path: path.join(outDir, "web-page.png"), fullPage: true });
    await page.setViewportSize({ width: 1100, height: 720 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(outDir, "docs-web-page.png") });
    await page.setViewportSize({ width: 1280, height: 900 });

    // The LLM goes away: Diagnose gives the rules-based facts as the answer, not a red error.
    // From an open payments card (its newest pod); the demo's pods recover and fail again every
    // few seconds, so a pod that was healthy at that instant (no facts) is asked again until a
    // 30 s deadline.
    ollamaDown = true;
    let noLlm, noLlmText = "", noLlmFacts = "";
    const deadline = Date.now() + 30000;
    for (let attempt = 0; Date.now() < deadline && !/exit 2/.test(noLlmFacts); ++attempt) {
      if (attempt) await page.waitForTimeout(250);  // the poll's interval, not a wait for a state
      const before = await page.locator(".msg.bot.no-llm").count();
      const openCard = page.locator(".incident:not(.resolved)", { hasText: "payments/api" }).first();
      await openCard.waitFor({ timeout: 30000 });
      await openCard.locator(".diagnose-btn").click();
      await page.fill("#question", "Is the database reachable from api? (" + attempt + ")");
      await page.click("#send");
      noLlm = page.locator(".msg.bot.no-llm").nth(before);
      await noLlm.waitFor({ timeout: 30000 });
      noLlmText = await noLlm.innerText();
      const factsPanel = noLlm.locator("details", { hasText: "Facts (rules)" });
      noLlmFacts = (await factsPanel.count()) ? await factsPanel.locator("pre").innerText() : "";
    }
    if (!noLlmText.includes("LLM not configured or unreachable — here are the rules-based facts."))
      fail("no-LLM state unclear: " + noLlmText);
    if (!/exit 2/.test(noLlmFacts)) fail("no-LLM answer without the facts: " + noLlmText);
    if (/Error 503|curl|Failed to connect|Empty reply|Couldn't connect/i.test(noLlmText)) fail("raw error shown: " + noLlmText);
    if (await page.locator(".msg.err").count()) fail("an error message for a missing LLM");
    await page.screenshot({ path: path.join(outDir, "web-page-no-llm.png"), fullPage: true });
    // Ask without an LLM says so plainly too.
    await page.check("input[name=mode][value=ask]");
    await page.fill("#question", "What is a PodDisruptionBudget?");
    await page.click("#send");
    await page.locator(".msg.bot.no-llm", { hasText: "Ask cannot answer" }).waitFor({ timeout: 30000 });
    if (await page.locator(".msg.err").count()) fail("an error message for a missing LLM (Ask)");

    // 420 px wide (a phone): nothing overflows sideways, in either mode.
    const narrow = await browser.newPage({ viewport: { width: 420, height: 900 } });
    watchErrors(narrow);
    await narrow.goto(url);
    await narrow.locator(".incident").first().waitFor({ timeout: 30000 });
    await narrow.locator(".incident details.next-steps summary").first().click();
    await narrow.check("input[name=mode][value=diagnose]");
    const overflow = await narrow.evaluate(() => {
      const wide = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map((e) => e.tagName + "." + e.className);
      return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth, wide: wide.slice(0, 5) };
    });
    if (overflow.scroll > overflow.inner || overflow.wide.length)
      fail("horizontal overflow at 420 px: " + JSON.stringify(overflow));
    await narrow.screenshot({ path: path.join(outDir, "web-page-420.png"), fullPage: true });

    // Severity, changes and the runbook (fields other modules add), and hostile entries: a mocked
    // /api/incidents. Cluster strings stay text; a non-http runbook is not linked.
    const mocked = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    watchErrors(mocked);
    const opened = new Date(Date.now() - 3600e3).toISOString().replace(/\.\d+Z$/, "Z");
    const resolvedAt = new Date(Date.parse(opened) + 248e3).toISOString().replace(/\.\d+Z$/, "Z");
    const uid = "5a1d0000-0000-4000-8000-00000000000b";
    const entry = {
      id: "i1", cluster: "prod <b>eu</b>", namespace: "shop", reason: "OOMKilled", state: "resolved",
      workload: { kind: "Deployment", name: "cart" }, container: "app", pods: ["cart-7d9f-abcde"],
      restarts: 4, exitCode: 137, firstSeen: opened, resolvedAt, severity: "critical",
      runbookUrl: "https://runbooks.example/oom?ns=shop&w=cart",
      facts: "[shop] OOMKilled Deployment/cart container app: 1 pod, exit 137, memory limit 256Mi | BackOff: Back-off in pod cart-7d9f-abcde_shop(" + uid + ") <img src=x onerror=alert(1)>",
      changes: [{ field: "image", container: "app", from: "registry/cart:1.0", to: "registry/cart:1.1" },
        { field: "resources", container: "app", from: "limits.memory=512Mi", to: "limits.memory=256Mi" }],
    };
    const hostile = [null, 7, { id: "i2", namespace: "x", reason: "CrashLoopBackOff", state: "open",
      workload: null, pods: "not-a-list", changes: [null, 3], runbookUrl: "javascript:alert(1)",
      firstSeen: "yesterday", facts: 42, diagnosis: { text: null } }];
    await mocked.route("**/api/incidents", (r) => r.fulfill({ status: 200, contentType: "application/json",
      body: JSON.stringify({ cluster: "prod <b>eu</b>", incidents: [entry, ...hostile] }) }));
    await mocked.goto(url);
    const m = mocked.locator(".incident", { hasText: "shop/cart" });
    await m.waitFor({ timeout: 10000 });
    if ((await mocked.locator("#cluster").innerText()) !== "cluster prod <b>eu</b>") fail("cluster name not shown as text");
    if ((await m.locator(".severity").innerText()).toLowerCase() !== "critical") fail("severity not shown");
    const changes = await m.locator("details.changes pre").innerText();
    if (!changes.includes("image (app): registry/cart:1.0 → registry/cart:1.1") ||
        !changes.includes("resources (app): limits.memory=512Mi → limits.memory=256Mi")) fail("changes: " + changes);
    if ((await m.locator("a.runbook").getAttribute("href")) !== entry.runbookUrl) fail("runbook link missing");
    if (!(await m.locator(".times").innerText()).endsWith("lasted 4m 8s")) fail("duration: " + (await m.locator(".times").innerText()));
    const mockedFacts = await m.locator("ul.facts").innerText();
    if (mockedFacts.includes(uid) || mockedFacts.includes("[shop]") || !mockedFacts.includes("in pod cart-7d9f-abcde <img"))
      fail("mocked facts: " + mockedFacts);
    if (await mocked.locator("img").count()) fail("cluster text became HTML");
    const odd = mocked.locator(".incident", { hasText: "CrashLoopBackOff" });
    await odd.waitFor({ timeout: 5000 });
    if (await odd.locator("a.runbook").count()) fail("a javascript: runbook became a link");
    await mocked.screenshot({ path: path.join(outDir, "web-page-mocked.png"), fullPage: true });

    if (consoleErrors.length) fail("console errors: " + consoleErrors.join("; "));
    console.log("web page OK; screenshots in " + outDir);
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
