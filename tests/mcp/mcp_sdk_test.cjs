// podmedic's MCP server with the official TypeScript SDK client (@modelcontextprotocol/sdk):
// against a running `podmedic demo` (with a fake Ollama, a bearer token and kube-system outside
// the watch scope) it connects over Streamable HTTP, lists the tools, calls each one, and checks
// that a namespace outside the watch scope is refused, a wrong argument is an isError result,
// a missing token cannot connect, and no demo secret reaches a tool result.
//
//   node tests/mcp/mcp_sdk_test.cjs PODMEDIC_BINARY
// The SDK is found through NODE_PATH (scripts/setup.sh --tools installs it in .tools/mcp).
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { startOllama, startDemo } = require("../demo_support.cjs");

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error("usage: mcp_sdk_test.cjs PODMEDIC_BINARY");
  process.exit(2);
}
const ANSWER = "The API cannot reach its database; check the postgres Service and its endpoints.";
const TOKEN = "mcp-e2e-token";
const SECRET = "hunter2"; // the demo's payments DSN password
const prompts = [];

function fail(msg) {
  throw new Error(msg);
}

function connect(mcpUrl, headers) {
  const client = new Client({ name: "podmedic-e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers } });
  return client.connect(transport).then(() => ({ client, transport }));
}

// The one text block of a tool result, parsed (podmedic mirrors structuredContent there).
function body(result) {
  if (!Array.isArray(result.content) || result.content.length !== 1 || result.content[0].type !== "text")
    fail("unexpected content: " + JSON.stringify(result.content));
  const text = result.content[0].text;
  if (text.includes(SECRET)) fail("a secret reached a tool result: " + text.slice(0, 300));
  return JSON.parse(text);
}

(async () => {
  const ollama = await startOllama(ANSWER, prompts);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "podmedic-mcp-"));
  const configPath = path.join(tmp, "podmedic.yaml");
  fs.writeFileSync(configPath,
    "ollama:\n  url: http://127.0.0.1:" + ollama.address().port + "\n" +
    "diagnosis:\n  waitBeforeNotify: 2s\n" +
    "server:\n  token: " + TOKEN + "\n" +
    "watch:\n  excludeNamespaces: [kube-system]\n");
  const demo = startDemo(binary, configPath);
  let client;
  const t0 = Date.now();
  try {
    const mcpUrl = (await demo.url) + "mcp";

    // Without the bearer token the SDK cannot even initialize.
    let refused = false;
    await connect(mcpUrl, {}).catch((e) => {
      refused = e.code === 401 || /bearer token/.test(String(e));
    });
    if (!refused) fail("connected without the bearer token");

    const c = await connect(mcpUrl, { Authorization: "Bearer " + TOKEN });
    client = c.client;
    if (client.getServerVersion().name !== "podmedic") fail("serverInfo: " + JSON.stringify(client.getServerVersion()));
    if (!client.getServerCapabilities().tools) fail("no tools capability");
    if (!c.transport.protocolVersion) fail("no protocol version negotiated");

    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort().join(",");
    if (names !== "ask,diagnose,get_incident,list_incidents") fail("tools: " + names);
    for (const t of tools) {
      if (t.inputSchema.type !== "object" || t.inputSchema.additionalProperties !== false)
        fail("inputSchema of " + t.name + ": " + JSON.stringify(t.inputSchema));
    }

    // list_incidents: the demo's scripted failures show up.
    let incidents = [];
    for (let i = 0; i < 60 && incidents.length === 0; ++i) {
      const r = await client.callTool({ name: "list_incidents", arguments: { state: "all" } });
      if (r.isError) fail("list_incidents: " + JSON.stringify(r));
      incidents = body(r).incidents;
      if (incidents.length === 0) await new Promise((res) => setTimeout(res, 500));
    }
    if (incidents.length === 0) fail("no incident listed");
    const target = incidents[0];

    // get_incident: the facts and the redacted key lines and events.
    const got = await client.callTool({ name: "get_incident", arguments: { id: target.id } });
    if (got.isError) fail("get_incident: " + JSON.stringify(got));
    const inc = body(got);
    if (inc.id !== target.id || !inc.facts || !Array.isArray(inc.pods)) fail("incident: " + JSON.stringify(inc));
    if (JSON.stringify(got.structuredContent) !== JSON.stringify(inc)) fail("structuredContent differs from the text");
    const missing = await client.callTool({ name: "get_incident", arguments: { id: "no-such-id" } });
    if (!missing.isError) fail("an unknown id was not an isError result");

    // diagnose an open incident's namespace: live evidence and the (fake) LLM's answer,
    // redacted. (Demo pods recover within seconds: again with the next one if it just did.)
    let d;
    for (let i = 0; i < 20 && !(d && d.context.includes("== Pod ==")); ++i) {
      const open = body(await client.callTool({ name: "list_incidents", arguments: {} })).incidents;
      if (open.length === 0) {
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      const diag = await client.callTool({ name: "diagnose", arguments: { namespace: open[0].namespace, question: "why?" } });
      if (diag.isError) fail("diagnose: " + JSON.stringify(diag));
      d = body(diag);
    }
    if (!d) fail("no open incident to diagnose");
    if (d.answer !== ANSWER) fail("diagnose answer: " + JSON.stringify(d).slice(0, 300));
    if (!d.context.includes("== Pod ==")) fail("diagnose without evidence");
    if (!prompts.some((p) => p.includes("BEGIN EVIDENCE"))) fail("no diagnose prompt reached the LLM");
    if (prompts.some((p) => p.includes(SECRET))) fail("a secret reached the LLM");

    // ask.
    const ask = await client.callTool({ name: "ask", arguments: { question: "What does exit code 137 mean?" } });
    if (ask.isError || body(ask).answer !== ANSWER) fail("ask: " + JSON.stringify(ask));

    // Outside the watch scope: refused, by diagnose and by list_incidents.
    for (const [name, args] of [["diagnose", { namespace: "kube-system" }], ["list_incidents", { namespace: "kube-system" }]]) {
      const r = await client.callTool({ name, arguments: args });
      if (!r.isError || !body(r).error.includes("watch scope")) fail(name + " in kube-system: " + JSON.stringify(r));
    }
    // A wrong argument: an isError result the model can act on (2025-11-25), or -32602 before.
    const bad = await client.callTool({ name: "list_incidents", arguments: { state: "closed" } })
      .catch((e) => ({ isError: true, content: [{ type: "text", text: JSON.stringify({ error: String(e) }) }] }));
    if (!bad.isError) fail("state \"closed\" accepted");

    await client.close();
    client = undefined;
    console.log("MCP OK: " + names + " over protocol " + c.transport.protocolVersion + " in " + (Date.now() - t0) + " ms");
  } catch (e) {
    console.error("FAILED: " + (e && e.stack ? e.stack : e));
    console.error("--- demo output ---\n" + demo.output().slice(-4000));
    process.exitCode = 1;
  } finally {
    if (client) await client.close().catch(() => {});
    demo.child.kill("SIGTERM");
    ollama.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
})();
