// The editor's traffic and coverage views: per-widget counts from executions in a period, and
// an overlay of what never ran / was never taken — from a `flowyard test --coverage-json` file
// (read in the browser, nothing is uploaded) or from the same period's production steps.
import { api, clear, el, errorText, flowSid, plural, toast } from "./common.js";
import { portKey } from "./overlay.js";
import { portsOf } from "./ports.js";

const $ = (id) => document.getElementById(id);
const SHARED = "steps do not record which condition matched: conditions that lead to the same widget count together";

// The flow file's folder and name: enough to tell the files of one test run apart.
const shortPath = (path) => path.split(/[\\/]/).slice(-2).join("/");

// host: {canvas, definition(): the flow open, select(name): select a widget and show it}
export function mountOverlay(host) {
  const view = { file: null, entry: null };
  const states = () => (Array.isArray(host.definition().states) ? host.definition().states : [])
    .filter((s) => s && s.name);

  function show(counts, coverage) {
    host.canvas.setDecorations({ counts, coverage });
  }

  function clearAll() {
    view.file = view.entry = null;
    $("traffic").value = "";
    $("never-taken").checked = false;
    show(null, null);
    clear($("coverage-bar")).hidden = true;
  }

  // The bar under the toolbar: a summary, the never-taken transitions (each selects its
  // widget), the widgets that never ran, and Clear.
  function bar(summary, untaken, unrun, extra = null) {
    const item = (widget, text) => el("li", {}, el("button", {
      type: "button", class: "link", onclick: () => host.select(widget),
    }, text));
    const box = clear($("coverage-bar"));
    box.hidden = false;
    box.append(...[el("span", { class: "summary", role: "status" }, summary), extra,
      untaken.length || unrun.length ? el("details", { class: "never" },
        el("summary", {}, "Never taken / never ran"),
        el("ul", { class: "never-taken" }, untaken.map((e) => item(e.widget,
          `${e.widget} --${e.event}--> ${e.next || "Ended"}`))),
        unrun.length ? el("ul", { class: "never-ran" }, unrun.map((name) => item(name, `${name} never ran`))) : null)
        : null,
      el("button", { type: "button", id: "coverage-clear", onclick: clearAll }, "Clear")].filter(Boolean));
  }

  // --- a coverage file ----------------------------------------------------------------------

  // The share of widget names two sets have in common (1 when they are the same set).
  function overlap(entry) {
    const mine = new Set(states().map((s) => s.name));
    const theirs = Object.keys(entry.widgets.counts);
    const common = theirs.filter((name) => mine.has(name)).length;
    return common / (new Set([...mine, ...theirs]).size || 1);
  }

  function showEntry(entry) {
    view.entry = entry;
    const ran = new Map(Object.entries(entry.widgets.counts));
    const edges = new Map();
    const untaken = [];
    for (const e of entry.transitions.edges) {
      edges.set(portKey(e.widget, { event: e.event, match: e.match }), { count: e.count });
      if (!e.count) {
        const event = e.match === null ? e.event : `match[${e.match}${e.label ? ": " + e.label : ""}]`;
        untaken.push({ widget: e.widget, event, next: e.next });
      }
    }
    show(ran, { ran, edges });
    const unrun = [...ran].filter(([, n]) => !n).map(([name]) => name);
    const summary = `Coverage ${Math.round(entry.percent)}% — ${plural(untaken.length, "transition")} never taken` +
      (unrun.length ? `, ${plural(unrun.length, "widget")} never ran` : "");
    const flows = view.file.flows;
    const choose = flows.length > 1 ? el("label", { class: "which" }, "File ", el("select", {
      id: "coverage-flow", onchange: (event) => showEntry(flows[Number(event.target.value)]),
    }, flows.map((f, i) => el("option", { value: i, selected: f === entry, title: f.file },
      `${shortPath(f.file)} (${Math.round(overlap(f) * 100)}% same widgets)`)))) : null;
    bar(summary, untaken, unrun, choose); // the bar is a status: no toast on top of it
  }

  function loadFile(file) {
    const reader = new FileReader();
    reader.onload = () => {
      let data;
      try {
        data = JSON.parse(reader.result);
        if (!Array.isArray(data.flows)) throw new Error("it has no flows");
      } catch (error) {
        return toast(`Not a coverage file (flowyard test --coverage-json): ${error.message}`, "error");
      }
      // The file names flow files, not flow SIDs: the entry whose widgets are this flow's.
      const ranked = data.flows.map((f) => [overlap(f), f]).sort((a, b) => b[0] - a[0]);
      if (!ranked.length || ranked[0][0] === 0) {
        return toast("No flow in this coverage file has this flow's widgets.", "error");
      }
      $("traffic").value = "";
      $("never-taken").checked = false;
      view.file = data;
      showEntry(ranked[0][1]);
    };
    reader.onerror = () => toast(`Cannot read ${file.name}`, "error");
    reader.readAsText(file);
  }

  // --- production traffic -------------------------------------------------------------------

  // The same overlay from the period's steps, counted by (from, event, to).
  function trafficOverlay(data, ran) {
    const taken = new Map(data.transitions.map((t) => [`${t.from}|${t.event}|${t.to}`, t.count]));
    const edges = new Map();
    const untaken = [];
    for (const state of states()) {
      const ports = portsOf(state);
      for (const port of ports) {
        // As coverage counts: no trigger channel the flow does not take, no absent transition.
        if (port.index < 0 || (state.type === "trigger" && !port.next)) continue;
        const count = taken.get(`${state.name}|${port.event}|${port.next || "Ended"}`) || 0;
        const shared = port.event === "match" &&
          ports.some((p) => p !== port && p.event === "match" && p.next === port.next);
        edges.set(portKey(state.name, port), { count, note: shared ? SHARED : "" });
        if (!count) untaken.push({ widget: state.name, event: port.label, next: port.next });
      }
      if (!ran.has(state.name)) ran.set(state.name, 0);
    }
    return { coverage: { ran, edges }, untaken };
  }

  async function traffic() {
    const period = $("traffic").value;
    view.file = view.entry = null;
    if (!period) return clearAll();
    try {
      const data = await api("GET", `/flows/${flowSid}/traffic?hours=${period}`);
      const counts = new Map(Object.entries(data.widgets));
      const executions = plural(data.executions, "execution");
      if (!$("never-taken").checked) {
        show(counts, null);
        clear($("coverage-bar")).hidden = true;
        return toast(`${executions} in this period`);
      }
      const { coverage, untaken } = trafficOverlay(data, counts);
      show(counts, coverage);
      const unrun = [...counts].filter(([, n]) => !n).map(([name]) => name);
      const label = $("traffic").selectedOptions[0].textContent;
      bar(`Traffic, ${label}: ${executions} — ${plural(untaken.length, "transition")} never taken`,
        untaken, unrun);
    } catch (error) {
      toast(errorText(error), "error");
    }
  }

  $("traffic").addEventListener("change", traffic);
  $("never-taken").addEventListener("change", () => {
    if ($("never-taken").checked && !$("traffic").value) $("traffic").value = "24";
    traffic();
  });
  $("coverage-load").addEventListener("click", () => $("coverage-file").click());
  $("coverage-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    event.target.value = ""; // the same file again is a change too
    if (file) loadFile(file);
  });
}
