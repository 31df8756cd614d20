// podmedic web page: a triage console. Incidents (polled from /api/incidents every 3 s) with
// filters and search, times and duration, the rules-based facts, what the rollout changed, the
// kubectl next steps (the same commands as the Slack alert, notifiers/render.cpp next_commands),
// and an Ask / Diagnose chat with the evidence sent to the LLM in a collapsible panel. Cluster
// data is only ever set as text (textContent), never parsed as HTML; links are http(s) only.
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

const str = (v) => (typeof v === "string" ? v : "");
const list = (v) => (Array.isArray(v) ? v : []);

// Which panels the user opened or closed survives the periodic refresh.
const panelState = new Map();
function details(summary, body, open, key, cls) {
  const d = el("details", cls);
  d.appendChild(el("summary", null, summary));
  d.appendChild(typeof body === "string" ? el("pre", null, body) : body);
  d.open = key && panelState.has(key) ? panelState.get(key) : Boolean(open);
  if (key) d.addEventListener("toggle", () => panelState.set(key, d.open));
  return d;
}

// --- time -----------------------------------------------------------------------------------

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
}

function when(ms) {
  const d = new Date(ms);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

// "opened 10:02:11 · open for 3m 5s" or "opened 10:02:11 · resolved 10:06:19 (2m 1s ago) ·
// lasted 4m 8s".
function timeline(inc) {
  const opened = Date.parse(str(inc.firstSeen));
  if (!opened) return "";
  const resolved = inc.state === "resolved" ? Date.parse(str(inc.resolvedAt)) : 0;
  const parts = ["opened " + when(opened)];
  if (resolved) {
    parts.push("resolved " + when(resolved) + " (" + duration((Date.now() - resolved) / 1000) + " ago)");
    parts.push("lasted " + duration((resolved - opened) / 1000));
  } else {
    parts.push("open for " + duration((Date.now() - opened) / 1000));
  }
  return parts.join(" · ");
}

// --- facts, changes, next steps --------------------------------------------------------------

// The facts line repeats the card's header ("[ns] Reason Kind/name container c: …") and kubelet
// event messages carry "pod_namespace(uid)": keep what the header does not say, one fact a line,
// pods by name only.
const UID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const POD_WITH_UID = new RegExp("([a-z0-9][-a-z0-9.]*)_[a-z0-9][-a-z0-9]*\\(" + UID + "\\)", "g");
const BARE_UID = new RegExp("\\s*\\(?\\b" + UID + "\\b\\)?", "g");
// Log lines keep their own UUIDs (request ids); facts and event messages lose them.
function withoutPodUids(text) {
  return text.replace(POD_WITH_UID, "$1");
}
function withoutUids(text) {
  return withoutPodUids(text).replace(BARE_UID, "");
}
function factLines(inc) {
  let facts = withoutUids(str(inc.facts));
  const header = "[" + str(inc.namespace) + "] " + str(inc.reason) + " ";
  if (facts.startsWith(header)) {
    const colon = facts.indexOf(": ");
    if (colon >= 0) facts = facts.slice(colon + 2);
  }
  return facts.split(" | ").map((f) => f.trim()).filter(Boolean);
}

function changeLines(inc) {
  return list(inc.changes).filter((c) => c && typeof c === "object").map((c) => {
    const where = str(c.container) ? " (" + c.container + ")" : "";
    return str(c.field) + where + ": " + (str(c.from) || "∅") + " → " + (str(c.to) || "∅");
  });
}

// The Slack alert's "next steps" (notifiers/render.cpp next_commands): the same commands for the
// same (first) pod, so the page and the alert agree.
function nextSteps(inc) {
  const pods = list(inc.pods);
  const pod = pods.length ? str(pods[0]) : str(inc.workload && inc.workload.name);
  const ns = "kubectl -n " + str(inc.namespace) + " ";
  const cmds = [ns + "describe pod " + pod];
  if (inc.reason === "ImagePullBackOff") {
    cmds.push(ns + "get pod " + pod + " -o jsonpath='{.spec.containers[*].image}'");
  } else {
    cmds.push(ns + "logs " + pod + " -c " + str(inc.container) + " --previous");
  }
  cmds.push(ns + "get events --field-selector involvedObject.name=" + pod);
  if (inc.reason === "OOMKilled" && inc.workload) {
    cmds.push(ns + "get " + str(inc.workload.kind).toLowerCase() + " " + str(inc.workload.name) +
      " -o jsonpath='{.spec.template.spec.containers[*].resources}'");
  }
  return cmds;
}

function httpUrl(u) {
  try {
    const url = new URL(str(u));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
  } catch (_) {
    return "";
  }
}

// --- incidents ------------------------------------------------------------------------------

function renderIncident(inc) {
  const open = inc.state !== "resolved";
  const li = el("li", "incident" + (open ? "" : " resolved"));
  li.dataset.id = str(inc.id);
  const title = el("div", "title");
  const severity = str(inc.severity);
  if (severity) title.appendChild(el("span", "severity sev-" + severity.replace(/[^a-z]/g, ""), severity));
  title.appendChild(el("span", "reason", inc.reason));
  title.appendChild(el("span", "workload", str(inc.namespace) + "/" + str(inc.workload && inc.workload.name)));
  title.appendChild(el("span", "badge", inc.workload && inc.workload.kind));
  title.appendChild(el("span", "badge state", open ? "open" : "resolved"));
  li.appendChild(title);
  const pods = list(inc.pods);
  li.appendChild(el("div", "meta",
    "container " + str(inc.container) + " · " + pods.length + (pods.length === 1 ? " pod" : " pods") +
    " · " + (Number(inc.restarts) || 0) + " restarts" + (inc.exitCode ? " · exit " + inc.exitCode : "")));
  li.appendChild(el("div", "meta times", timeline(inc)));
  const runbook = httpUrl(inc.runbookUrl);
  if (runbook) {
    const a = el("a", "runbook", "Runbook");
    a.href = runbook;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    li.appendChild(a);
  }
  const facts = factLines(inc);
  if (facts.length) {
    const ul = el("ul", "facts");
    facts.forEach((f) => ul.appendChild(el("li", null, f)));
    li.appendChild(ul);
  }
  const changes = changeLines(inc);
  if (changes.length) {
    li.appendChild(details("What the rollout changed (" + changes.length + ")", changes.join("\n"), true,
      inc.id + "/changes", "changes"));
  }
  if (inc.diagnosis && inc.diagnosis.text) {
    li.appendChild(details("Diagnosis (" + (str(inc.diagnosis.model) || "LLM") + ")", withoutPodUids(str(inc.diagnosis.text)),
      true, inc.id + "/diagnosis"));
  }
  li.appendChild(details("Next steps (kubectl)", nextSteps(inc).join("\n"), false, inc.id + "/next", "next-steps"));
  if (inc.evidence) {
    li.appendChild(details("Key log lines and events", withoutPodUids(str(inc.evidence)), false, inc.id + "/evidence"));
  }
  if (pods.length) li.appendChild(details("Pods", pods.join("\n"), false, inc.id + "/pods"));
  const b = el("button", "diagnose-btn", "Diagnose");
  b.type = "button";
  b.addEventListener("click", () => {
    document.querySelector('input[name=mode][value=diagnose]').checked = true;
    syncMode();
    $("namespace").value = str(inc.namespace);
    $("pod").value = pods.length ? pods[pods.length - 1] : "";
    $("question").value = "Why is " + str(inc.workload && inc.workload.name) + " failing with " + inc.reason + "?";
    $("question").focus();
  });
  li.appendChild(b);
  return li;
}

// Keeps a <select>'s options equal to `values` (plus its first "All …" option) and its choice.
function syncOptions(select, values) {
  const chosen = select.value;
  const want = [...new Set(values)].sort();
  if (chosen && !want.includes(chosen)) want.push(chosen);
  const have = [...select.options].slice(1).map((o) => o.value);
  if (have.join("\n") !== want.join("\n")) {
    select.replaceChildren(select.options[0], ...want.map((v) => el("option", null, v)));
    select.value = chosen;
  }
}

let incidents = [];
function matches(inc) {
  const ns = $("filter-namespace").value, reason = $("filter-reason").value, state = $("filter-state").value;
  if (ns && inc.namespace !== ns) return false;
  if (reason && inc.reason !== reason) return false;
  if (state && (inc.state === "resolved" ? "resolved" : "open") !== state) return false;
  const q = $("search").value.trim().toLowerCase();
  if (!q) return true;
  const hay = [inc.namespace, inc.reason, inc.container, inc.message, inc.facts, inc.severity,
    inc.workload && inc.workload.name, inc.workload && inc.workload.kind, ...list(inc.pods)]
    .map(str).join("\n").toLowerCase();
  return q.split(/\s+/).every((w) => hay.includes(w));
}

function render() {
  const shown = incidents.filter(matches);
  $("incidents").replaceChildren(...shown.map(renderIncident));
  const open = incidents.filter((i) => i.state !== "resolved").length;
  $("incident-count").textContent = open + " open, " + (incidents.length - open) + " recent" +
    (shown.length !== incidents.length ? " · " + shown.length + " shown" : "");
  $("no-incidents").hidden = incidents.length > 0;
  $("no-match").hidden = incidents.length === 0 || shown.length > 0;
}
["search", "filter-namespace", "filter-reason", "filter-state"].forEach((id) =>
  $(id).addEventListener("input", render));

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
    incidents = list(data.incidents).filter((i) => i && typeof i === "object");
    const cluster = str(data.cluster) || (incidents.length ? str(incidents[0].cluster) : "");
    $("cluster").textContent = cluster ? "cluster " + cluster : "";
    $("cluster").hidden = !cluster;
    document.title = cluster ? "podmedic · " + cluster : "podmedic";
    syncOptions($("filter-namespace"), incidents.map((i) => str(i.namespace)).filter(Boolean));
    syncOptions($("filter-reason"), incidents.map((i) => str(i.reason)).filter(Boolean));
    render();
    $("incidents-error").hidden = true;
  } catch (e) {
    $("incidents-error").textContent = "Cannot load incidents: " + e.message;
    $("incidents-error").hidden = false;
  }
}

// --- Ask / Diagnose -------------------------------------------------------------------------

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
    const facts = list(data.facts).map((f) => withoutUids(str(f)));
    const extra = [];
    if (data.model) extra.push(el("div", "model", "model: " + data.model));
    if (res.status === 503 && (facts.length || data.context !== undefined)) {
      // Diagnose without an LLM: the facts are the answer, not an error.
      if (facts.length) extra.push(details("Facts (rules)", facts.join("\n"), true));
      else extra.push(el("div", "muted", body.pod ? "Pod " + body.pod + " is not failing right now."
        : "No pod in namespace " + body.namespace + " is failing right now."));
      if (data.context) extra.push(details("Evidence gathered (redacted)", data.context));
      if (data.error) extra.push(details("Why there is no LLM answer", str(data.error), false, null, "llm-error"));
      addMessage("bot no-llm", "LLM not configured or unreachable — here are the rules-based facts.", extra);
    } else if (res.status === 503) {
      if (data.error) extra.push(details("Why there is no LLM answer", str(data.error), false, null, "llm-error"));
      addMessage("bot no-llm", "LLM not configured or unreachable, so Ask cannot answer. " +
        "Diagnose still gives the rules-based facts for a namespace or pod.", extra);
    } else {
      if (facts.length) extra.push(details("Facts (rules)", facts.join("\n"), true));
      if (data.context) extra.push(details("Evidence sent to the LLM (redacted)", data.context));
      if (res.ok) addMessage("bot answer", data.answer, extra);
      else addMessage("bot err", "Error " + res.status + ": " + (data.error || "request failed"), extra);
    }
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
