// The flow editor page: canvas, palette, inspector, problems, JSON editor, save, traffic.
import { api, clear, debounce, el, errorText, flowSid, parsePath, plural, toast } from "./common.js";
import { Canvas } from "./canvas.js";
import { mountOverlay } from "./coverage.js";
import { renderInspector } from "./inspector.js";
import { jsonTab } from "./jsontab.js";
import { mountMinimap } from "./minimap.js";
import { mountSearch } from "./search.js";
import { mountTriggerUrls } from "./trigger.js";
import * as model from "./model.js";
import SPECS from "./specs.js";

const $ = (id) => document.getElementById(id);
const ed = {
  def: null, flow: null, selected: null, dirty: false,
  report: { errors: [], warnings: [] }, undo: [], redo: [], lastSnap: 0, sideTab: "inspector", alerts: 0,
};

const canvas = new Canvas($("canvas-pane"), {
  editable: true,
  label: "Flow canvas",
  onSelect: (name, how) => select(name, how),
  onMove: (name, x, y) => commit((def) => {
    const state = find(def, name);
    state.properties = state.properties || {};
    state.properties.offset = { x, y };
  }, { snapKey: `move:${name}` }),
  onConnect: (from, port, to) => connect(from, port, to),
  onDisconnect: (from, port) => connect(from, port, ""),
  onDelete: (name) => removeWidget(name),
});

mountMinimap(canvas, $("canvas-pane"));
mountSearch(canvas, $("canvas-pane"), { onPick: (name) => select(name) });

const find = model.find;
const names = () => model.names(ed.def);

// Every edit goes through here: undo snapshot, mutation, redraw, re-validation.
function commit(mutate, { structural = true, snapKey = "", fromJson = false } = {}) {
  const now = Date.now();
  if (!(snapKey && snapKey === ed.lastKey && now - ed.lastSnap < 1200)) {
    ed.undo.push(JSON.stringify(ed.def));
    if (ed.undo.length > 100) ed.undo.shift();
    ed.redo = [];
  }
  ed.lastKey = snapKey;
  ed.lastSnap = now;
  mutate(ed.def);
  setDirty(true);
  refresh({ inspector: structural, json: !fromJson });
}

function setDirty(dirty) {
  ed.dirty = dirty;
  $("save").textContent = dirty ? "Save…*" : "Save…";
}

function refresh({ inspector = true, json = true, check = true } = {}) {
  if (ed.selected && !find(ed.def, ed.selected)) ed.selected = null;
  canvas.selected = ed.selected;
  canvas.setDefinition(ed.def);
  if (json) jsonView.sync();
  if (inspector) renderSide();
  if (check) validate();
}

let validations = 0;
const validate = debounce(async () => {
  const mine = ++validations;
  let report;
  try {
    report = await api("POST", "/validate", { definition: ed.def });
  } catch (error) {
    toast(errorText(error), "error");
    return;
  }
  // A report for an older state would mark the wrong widgets (paths are by index).
  if (mine !== validations) return;
  ed.report = report;
  showReport();
}, 250);

const jsonView = jsonTab({
  host: $("json"), error: $("json-error"), definition: () => ed.def, report: () => ed.report,
  apply: (parsed) => commit((def) => {
    for (const key of Object.keys(def)) delete def[key];
    Object.assign(def, parsed);
    if (!Array.isArray(def.states)) def.states = [];
  }, { fromJson: true, snapKey: "json" }),
});

function widgetProblems() {
  const map = new Map();
  const states = Array.isArray(ed.def.states) ? ed.def.states : [];
  const add = (kind, item) => {
    const { index, rest } = parsePath(item.property_path);
    const state = states[index];
    if (!state || !state.name) return;
    if (!map.has(state.name)) map.set(state.name, { errors: [], warnings: [] });
    map.get(state.name)[kind].push({ message: item.message, rest });
  };
  ed.report.errors.forEach((e) => add("errors", e));
  ed.report.warnings.forEach((w) => add("warnings", w));
  return map;
}

function problemMessages() {
  return new Map([...widgetProblems()].map(([name, p]) => [name, {
    errors: p.errors.map((e) => e.message), warnings: p.warnings.map((w) => w.message),
  }]));
}

function showReport({ draw = true } = {}) {
  if (draw) canvas.setDecorations({ problems: problemMessages() });
  jsonView.problems();
  const { errors, warnings } = ed.report;
  const summary = $("problem-summary");
  clear(summary).append(el("button", {
    class: "link " + (errors.length ? "bad" : warnings.length ? "warn" : "ok"),
    onclick: () => showTab("problems"),
  }, errors.length || warnings.length
    ? `${plural(errors.length, "error")} · ${plural(warnings.length, "warning")}` : "Valid"));
  // Rebuilding the inspector under the user's cursor would lose what they are typing.
  const typingInSide = $("side").contains(document.activeElement);
  if (ed.sideTab === "problems" || (ed.sideTab === "inspector" && !typingInSide)) renderSide();
  // Tests and the benchmark wait for this: the canvas is drawn and checked.
  if (!document.body.dataset.ready) performance.mark("flowyard:ready");
  document.body.dataset.ready = "true";
}

function select(name, how = {}) {
  ed.selected = name;
  canvas.select(name);
  if (name && (ed.sideTab !== "simulator" || how.open)) ed.sideTab = "inspector";
  renderSide();
  if (name && how.open) {
    const first = $("side").querySelector("input, select, textarea");
    if (first) first.focus();
  }
}

function connect(from, port, to) {
  commit((def) => model.connect(def, from, port, to));
  toast(to ? `${from} → ${port.label} → ${to}` : `Disconnected ${from} ${port.label}`);
}

function rename(oldName, newName) {
  const error = model.renameError(ed.def, oldName, newName);
  if (error || newName === oldName) return error;
  ed.selected = newName; // before the redraw, so the renamed widget stays selected
  commit((def) => model.rename(def, oldName, newName));
  return null;
}

function removeWidget(name) {
  if (!model.canRemove(ed.def, name)) {
    toast("The trigger cannot be deleted.", "error");
    return;
  }
  if (!confirm(`Delete the widget ${name}?`)) return;
  commit((def) => model.remove(def, name));
  ed.selected = null;
  renderSide();
  canvas.root.focus();
}

// New widgets land in the middle of what the canvas shows, a little apart from each other.
function addWidget(type) {
  const rect = canvas.root.getBoundingClientRect();
  const { x, y, k } = canvas.view;
  const shift = (ed.def.states.length % 5) * 20;
  let state;
  commit((def) => {
    state = model.add(def, type, (rect.width / 2 - x) / k - 100 + shift, (rect.height / 2 - y) / k - 40 + shift);
  });
  select(state.name);
  canvas.focus(state.name);
  toast(`Added ${SPECS.widgets[type].label} as ${state.name}`);
}

function renderPalette() {
  const groups = new Map();
  for (const spec of Object.values(SPECS.widgets)) {
    if (!groups.has(spec.category)) groups.set(spec.category, []);
    groups.get(spec.category).push(spec);
  }
  const host = clear($("palette"));
  host.append(el("h2", {}, "Add a widget"));
  for (const [category, specs] of groups) {
    host.append(el("details", { open: category !== "voice" && category !== "conversations" },
      el("summary", {}, category.replace("-", " ")),
      el("ul", {}, specs.map((spec) => el("li", {}, el("button", {
        type: "button", class: `add cat-${spec.category}`, title: spec.description,
        dataset: { type: spec.type }, onclick: () => addWidget(spec.type),
      }, spec.label))))));
  }
}

// --- side panel: inspector, problems, simulator -----------------------------------------

function showTab(tab) {
  ed.sideTab = tab;
  renderSide();
}

// "Alerts (3)": the flow's recent alerts are counted on load, so a failing flow shows it.
const tabLabel = (t) => t[0].toUpperCase() + t.slice(1) + (t === "alerts" && ed.alerts ? ` (${ed.alerts})` : "");

function renderSide() {
  const side = $("side");
  const tabs = el("div", { class: "tabs", role: "tablist" }, ["inspector", "problems", "simulator", "alerts"].map((t) =>
    el("button", { role: "tab", "aria-selected": String(ed.sideTab === t), dataset: { tab: t },
      onclick: () => showTab(t) }, tabLabel(t))));
  $("toggle-sim").setAttribute("aria-pressed", String(ed.sideTab === "simulator"));
  if (ed.sideTab === "simulator") {
    if (!side.querySelector(".simulator")) {
      clear(side).append(tabs);
      const panel = el("div", { class: "simulator" });
      side.append(panel);
      import("./simulator.js").then((m) => m.mountSimulator(panel, {
        flow: () => ed.flow, definition: () => ed.def, highlight: (name) => canvas.setDecorations({ current: name }),
      }));
    }
    return;
  }
  if (canvas.deco.current) canvas.setDecorations({ current: null });
  clear(side).append(tabs);
  const body = el("div", { class: "side-body" });
  side.append(body);
  if (ed.sideTab === "problems") return renderProblems(body);
  if (ed.sideTab === "alerts") return import("./alerts.js").then((m) => m.renderRecentAlerts(body));
  const state = ed.selected && find(ed.def, ed.selected);
  if (!state) {
    body.append(el("p", { class: "muted" }, "Select a widget on the canvas (click, or Tab then Enter) ",
      "to see and edit its properties. Drag a card to move it; drag from an event to another ",
      "widget to connect them."));
    return;
  }
  const problems = widgetProblems().get(state.name) || { errors: [], warnings: [] };
  renderInspector(body, {
    state, names: names(), problems, editable: true,
    change: (mutate, opts = {}) => commit((def) => mutate(find(def, state.name)),
      { structural: !!opts.structural, snapKey: opts.structural ? "" : `edit:${state.name}` }),
    rename: (name) => rename(state.name, name),
    remove: () => removeWidget(state.name),
    connect: (port, to) => connect(state.name, port, to),
  });
}

function renderProblems(body) {
  const states = Array.isArray(ed.def.states) ? ed.def.states : [];
  const item = (kind, p) => {
    const { index } = parsePath(p.property_path);
    const state = states[index];
    return el("li", { class: kind },
      state && state.name ? el("button", { class: "link", onclick: () => select(state.name, { open: true }) },
        state.name) : el("code", {}, p.property_path), ": ", p.message);
  };
  const { errors, warnings } = ed.report;
  if (!errors.length && !warnings.length) {
    body.append(el("p", { class: "ok" }, "The validator finds no problem."));
    return;
  }
  body.append(el("ul", { class: "problems-list" },
    errors.map((e) => item("error", e)), warnings.map((w) => item("warning", w))));
}

// --- tabs, save, undo ----------------------------------------------------------

function showPane(which) {
  const json = which === "json";
  $("canvas-pane").hidden = json;
  $("json-pane").hidden = !json;
  $("tab-canvas").setAttribute("aria-selected", String(!json));
  $("tab-json").setAttribute("aria-selected", String(json));
  if (!json) canvas.render();
  else jsonView.open();
}

async function save(status, message) {
  const problems = clear($("save-problems"));
  try {
    const flow = await api("POST", `/flows/${flowSid}/revisions`, {
      definition: ed.def, status, commit_message: message || null,
      friendly_name: $("flow-name").value.trim() || ed.flow.friendly_name,
    });
    ed.flow = flow;
    setDirty(false);
    showFlow();
    $("save-dialog").close();
    toast(`Saved revision ${flow.revision} (${flow.status})`);
  } catch (error) {
    const errors = error.data && error.data.details && error.data.details.errors;
    if (errors) {
      ed.report = { errors, warnings: error.data.details.warnings || [] };
      showReport();
      problems.append(el("p", { class: "error", role: "alert" },
        `Not saved: ${plural(errors.length, "error")}. They are marked on the widgets.`));
    } else {
      problems.append(el("p", { class: "error", role: "alert" }, errorText(error)));
    }
  }
}

function showFlow() {
  $("flow-name").value = ed.flow.friendly_name;
  const badge = $("flow-status");
  badge.className = `badge ${ed.flow.status}`;
  badge.textContent = `${ed.flow.status} · revision ${ed.flow.revision}`;
  document.title = `${ed.flow.friendly_name} · Flowyard`;
}

function undo(from, to) {
  if (!from.length) return;
  to.push(JSON.stringify(ed.def));
  ed.def = JSON.parse(from.pop());
  ed.lastKey = "";
  setDirty(true);
  refresh();
}

function bind() {
  $("tab-canvas").addEventListener("click", () => showPane("canvas"));
  $("tab-json").addEventListener("click", () => showPane("json"));
  $("toggle-sim").addEventListener("click", () => showTab(ed.sideTab === "simulator" ? "inspector" : "simulator"));
  mountOverlay({ canvas, definition: () => ed.def, select: (name) => {
    select(name);
    canvas.reveal(name);
  } });
  $("flow-name").addEventListener("input", () => setDirty(true));
  $("save").addEventListener("click", () => {
    clear($("save-problems"));
    $("save-dialog").showModal();
  });
  $("save-form").addEventListener("submit", (event) => {
    const choice = event.submitter && event.submitter.value;
    if (choice === "draft" || choice === "published") {
      event.preventDefault();
      save(choice, event.target.elements.message.value.trim());
    }
  });
  document.addEventListener("keydown", (event) => {
    const mod = event.ctrlKey || event.metaKey;
    const target = event.composedPath()[0]; // inside the JSON editor's shadow root too
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable;
    if (mod && event.key.toLowerCase() === "s") {
      event.preventDefault();
      $("save").click();
    } else if (mod && !typing && event.key.toLowerCase() === "z") {
      event.preventDefault();
      if (event.shiftKey) undo(ed.redo, ed.undo);
      else undo(ed.undo, ed.redo);
    } else if (mod && !typing && event.key.toLowerCase() === "y") {
      event.preventDefault();
      undo(ed.redo, ed.undo);
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (ed.dirty) event.preventDefault();
  });
}

async function load() {
  bind();
  mountTriggerUrls($("trigger-urls"));
  renderPalette();
  try {
    ed.flow = await api("GET", `/flows/${flowSid}`);
  } catch (error) {
    toast(errorText(error), "error");
    return;
  }
  ed.def = ed.flow.definition;
  if (!Array.isArray(ed.def.states)) ed.def.states = [];
  showFlow();
  // The stored revision carries its validator report already: no round trip on load.
  ed.report = { errors: ed.flow.errors || [], warnings: ed.flow.warnings || [] };
  canvas.deco.problems = problemMessages();
  refresh({ check: false });
  canvas.fit();
  showReport({ draw: false });
  api("GET", `/flows/${flowSid}/alerts`).then((data) => {
    ed.alerts = data.alerts.length;
    const tab = $("side").querySelector('[data-tab="alerts"]');
    if (tab) tab.textContent = tabLabel("alerts");
  }, () => {});
}

load();
