// One execution: step timeline, its path on the canvas, the context at each step, end/delete.
import { api, clear, el, errorText, flowSid, fmtDate, plural, toast } from "./common.js";
import { alertBox, level } from "./alerts.js";
import { Canvas } from "./canvas.js";
import { renderTree } from "./jsontree.js";

const sid = document.body.dataset.execution;
const $ = (id) => document.getElementById(id);
const canvas = new Canvas($("exec-canvas"), {
  editable: false, label: "The execution's path on the flow canvas",
  onSelect: () => {},
});
let data = null;

function pathUpTo(count) {
  const visited = new Set();
  const taken = new Set();
  data.steps.slice(0, count).forEach((step) => {
    visited.add(step.from);
    visited.add(step.to);
    taken.add(`${step.from}|${step.event}|${step.to}`);
  });
  return { visited, taken };
}

function showStep(index) {
  // index -1: the execution's current context; else the context right after that step.
  for (const button of $("timeline").querySelectorAll("button")) {
    button.setAttribute("aria-current", String(Number(button.dataset.index) === index));
  }
  const upTo = index < 0 ? data.steps.length : index + 1;
  const step = data.steps[upTo - 1];
  canvas.setDecorations({ ...pathUpTo(upTo), current: step ? step.to : null });
  if (step && step.to) canvas.reveal(step.to);
  $("ctx-which").textContent = index < 0 ? "(now)" : `(after step ${index + 1}: ${step.from} → ${step.to})`;
  renderTree($("context"), index < 0 ? data.context : step.context);
}

// Alerts by the step that left the failing widget; those without a (known) step go on top.
function alertsByStep() {
  const steps = new Set(data.steps.map((step) => step.sid));
  const byStep = new Map();
  const loose = [];
  for (const alert of data.alerts) {
    if (!alert.step_sid || !steps.has(alert.step_sid)) loose.push(alert);
    else byStep.set(alert.step_sid, [...(byStep.get(alert.step_sid) || []), alert]);
  }
  return { byStep, loose };
}

// Red for an error, amber when every alert there is a warning.
function worst(alerts) {
  return alerts.some((alert) => level(alert) === "error") ? "error" : "warning";
}

function failedWidgets() {
  const widgets = new Map();
  for (const alert of data.alerts) {
    if (!alert.widget) continue;
    const before = widgets.get(alert.widget);
    widgets.set(alert.widget, before === "error" ? "error" : level(alert));
  }
  return widgets;
}

function render() {
  const ex = data.execution;
  $("exec-title").textContent = `Execution ${ex.sid}`;
  clear($("exec-meta")).append(el("span", { class: `badge ${ex.status}` }, ex.status),
    ` · contact ${ex.contact} · started ${fmtDate(ex.date_created)} · last change ` +
    `${fmtDate(ex.date_updated)} · revision ${ex.flow_revision} · ${plural(data.steps.length, "step")}`,
    data.alerts.length ? el("span", { class: "bad" }, ` · ${plural(data.alerts.length, "alert")}`) : null);
  $("end").hidden = ex.status !== "active";
  const { byStep, loose } = alertsByStep();
  clear($("exec-alerts")).append(...loose.map((alert) => alertBox(alert)));
  const list = clear($("timeline"));
  list.append(el("li", {}, el("button", { type: "button", dataset: { index: -1 }, onclick: () => showStep(-1) },
    el("span", { class: "event" }, "Context now"), el("small", {}, ex.status))));
  data.steps.forEach((step, i) => {
    const alerts = byStep.get(step.sid) || [];
    const failed = alerts.length ? `step-${worst(alerts) === "error" ? "failed" : "warning"}` : null;
    list.append(el("li", { class: failed, dataset: { step: step.sid } },
      el("button", { type: "button", dataset: { index: i }, onclick: () => showStep(i) },
        el("span", { class: "event" }, `${i + 1}. ${step.event}`),
        el("span", {}, `${step.from} → ${step.to}`),
        el("small", {}, el("time", { datetime: step.date }, fmtDate(step.date)))),
      alerts.map((alert) => alertBox(alert))));
  });
  canvas.setDecorations({ failed: failedWidgets() });
  canvas.setDefinition(data.definition);
  canvas.fit();
  showStep(-1);
  document.body.dataset.ready = "true";
}

async function load() {
  try {
    data = await api("GET", `/flows/${flowSid}/executions/${sid}`);
  } catch (error) {
    clear($("timeline")).append(el("li", { class: "error" }, errorText(error)));
    return;
  }
  render();
}

$("end").addEventListener("click", async () => {
  try {
    await api("POST", `/flows/${flowSid}/executions/${sid}/end`);
    toast("Execution ended");
    await load();
  } catch (error) {
    toast(errorText(error), "error");
  }
});

$("delete").addEventListener("click", async () => {
  if (!confirm("Delete this execution and its steps?")) return;
  try {
    await api("DELETE", `/flows/${flowSid}/executions/${sid}`);
    location.assign(`/console/flows/${flowSid}/executions`);
  } catch (error) {
    toast(errorText(error), "error");
  }
});

load();
