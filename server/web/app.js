// podmedic web page: incidents (polled from /api/incidents) and an Ask / Diagnose chat with the
// evidence sent to the LLM in a collapsible panel. Cluster data is only ever set as text
// (textContent), never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const tokenInput = $("token");
tokenInput.value = sessionStorage.getItem("podmedic-token") || "";
tokenInput.addEventListener("change", () => {
  sessionStorage.setItem("podmedic-token", tokenInput.value);
  refresh();
});

function headers(json) {
  const h = {};
  if (json) h["Content-Type"] = "application/json";
  if (tokenInput.value) h["Authorization"] = "Bearer " + tokenInput.value;
  return h;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// Which incident panels the user opened or closed survives the periodic refresh.
const panelState = new Map();
function details(summary, body, open, key) {
  const d = el("details");
  d.appendChild(el("summary", null, summary));
  d.appendChild(el("pre", null, body));
  d.open = key && panelState.has(key) ? panelState.get(key) : Boolean(open);
  if (key) d.addEventListener("toggle", () => panelState.set(key, d.open));
  return d;
}

function ago(rfc3339) {
  const t = Date.parse(rfc3339);
  if (!t) return "";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 90) return s + "s ago";
  if (s < 5400) return Math.round(s / 60) + "m ago";
  return Math.round(s / 3600) + "h ago";
}

function renderIncident(inc) {
  const li = el("li", "incident" + (inc.state === "resolved" ? " resolved" : ""));
  li.dataset.id = inc.id;
  const title = el("div", "title");
  title.appendChild(el("span", "reason", inc.reason));
  title.appendChild(el("span", "workload", inc.namespace + "/" + inc.workload.name));
  title.appendChild(el("span", "badge", inc.workload.kind));
  title.appendChild(el("span", "badge state", inc.state));
  li.appendChild(title);
  const pods = inc.pods || [];
  li.appendChild(el("div", "meta",
    "container " + inc.container + " · " + pods.length + (pods.length === 1 ? " pod" : " pods") +
    " · " + inc.restarts + " restarts" + (inc.exitCode ? " · exit " + inc.exitCode : "") +
    " · first seen " + ago(inc.firstSeen)));
  if (inc.diagnosis && inc.diagnosis.text) {
    li.appendChild(details("Diagnosis (" + (inc.diagnosis.model || "LLM") + ")", inc.diagnosis.text, true,
      inc.id + "/diagnosis"));
  }
  if (inc.facts) li.appendChild(details("Facts (rules)", inc.facts, !inc.diagnosis, inc.id + "/facts"));
  if (inc.evidence) li.appendChild(details("Key log lines and events", inc.evidence, false, inc.id + "/evidence"));
  if (pods.length) li.appendChild(details("Pods", pods.join("\n"), false, inc.id + "/pods"));
  const b = el("button", "diagnose-btn", "Diagnose");
  b.type = "button";
  b.addEventListener("click", () => {
    document.querySelector('input[name=mode][value=diagnose]').checked = true;
    syncMode();
    $("namespace").value = inc.namespace;
    $("pod").value = pods.length ? pods[pods.length - 1] : "";
    $("question").value = "Why is " + inc.workload.name + " failing with " + inc.reason + "?";
    $("question").focus();
  });
  li.appendChild(b);
  return li;
}

async function refresh() {
  try {
    const [incRes, ready] = await Promise.all([
      fetch("/api/incidents", { headers: headers(false) }),
      fetch("/readyz").then((r) => r.ok).catch(() => false),
    ]);
    $("cluster-status").textContent = ready ? "watching" : "syncing…";
    if (!incRes.ok) {
      const body = await incRes.json().catch(() => ({}));
      throw new Error(body.error || "HTTP " + incRes.status);
    }
    const data = await incRes.json();
    const list = $("incidents");
    list.replaceChildren(...data.incidents.map(renderIncident));
    const open = data.incidents.filter((i) => i.state === "open").length;
    $("incident-count").textContent = open + " open, " + (data.incidents.length - open) + " recent";
    $("no-incidents").hidden = data.incidents.length > 0;
    $("incidents-error").hidden = true;
  } catch (e) {
    $("incidents-error").textContent = "Cannot load incidents: " + e.message;
    $("incidents-error").hidden = false;
  }
}

function mode() {
  return document.querySelector("input[name=mode]:checked").value;
}
function syncMode() {
  $("target").hidden = mode() !== "diagnose";
  $("namespace").required = mode() === "diagnose";
}
document.querySelectorAll("input[name=mode]").forEach((r) => r.addEventListener("change", syncMode));

function addMessage(cls, text, extra) {
  const m = el("div", "msg " + cls);
  m.appendChild(el("div", "text", text));
  if (extra) extra.forEach((x) => m.appendChild(x));
  $("messages").appendChild(m);
  m.scrollIntoView({ block: "end" });
  return m;
}

$("chat-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  const diagnose = mode() === "diagnose";
  const body = { question };
  if (diagnose) {
    body.namespace = $("namespace").value.trim();
    if ($("pod").value.trim()) body.pod = $("pod").value.trim();
  }
  addMessage("user", (diagnose ? "[" + body.namespace + (body.pod ? "/" + body.pod : "") + "] " : "") + question);
  $("send").disabled = true;
  const pending = addMessage("bot pending", "Thinking… (a local model can take a minute)");
  try {
    const res = await fetch(diagnose ? "/diagnose" : "/ask", {
      method: "POST", headers: headers(true), body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({ error: "HTTP " + res.status }));
    pending.remove();
    const extra = [];
    if (data.model) extra.push(el("div", "model", "model: " + data.model));
    if (data.facts && data.facts.length) extra.push(details("Facts (rules)", data.facts.join("\n"), true));
    if (data.context) extra.push(details("Evidence sent to the LLM (redacted)", data.context));
    if (res.ok) addMessage("bot answer", data.answer, extra);
    else addMessage("bot err", "Error " + res.status + ": " + (data.error || "request failed"), extra);
    if (res.ok) $("question").value = "";
  } catch (e) {
    pending.remove();
    addMessage("bot err", "Request failed: " + e.message);
  } finally {
    $("send").disabled = false;
  }
});

syncMode();
refresh();
setInterval(refresh, 3000);
