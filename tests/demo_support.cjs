// Shared by the Node end-to-end tests (tests/web, tests/mcp): a fake Ollama and a running
// `podmedic demo`.
"use strict";
const { spawn } = require("child_process");
const http = require("http");

// A fake Ollama per reference/protocols.md §7: /api/tags and /api/chat (NDJSON when streaming),
// always answering `answer`; the last user message of every chat is pushed onto `prompts`.
// While `isDown()` is true, /api/chat connections are dropped, as a dead or absent LLM does.
function startOllama(answer, prompts, isDown = () => false) {
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
      if (isDown()) {
        req.socket.destroy();
        return;
      }
      const j = JSON.parse(body);
      prompts.push(j.messages[j.messages.length - 1].content);
      const done = { model: "mistral", created_at: new Date().toISOString(),
        message: { role: "assistant", content: "" }, done: true, done_reason: "stop" };
      if (j.stream === false) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ ...done, message: { role: "assistant", content: answer } }));
        return;
      }
      res.writeHead(200, { "Content-Type": "application/x-ndjson" });
      for (const word of answer.split(/(?<= )/)) {
        res.write(JSON.stringify({ model: "mistral", created_at: new Date().toISOString(),
          message: { role: "assistant", content: word }, done: false }) + "\n");
      }
      res.end(JSON.stringify(done) + "\n");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// `podmedic demo` on a free loopback port with `configPath`; `url` resolves to its web page URL
// once printed (rejects after 30 s or if the demo exits), `output()` is what it printed so far.
function startDemo(binary, configPath) {
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

module.exports = { startOllama, startDemo };
