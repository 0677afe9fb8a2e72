// The simulator panel: chat with the flow as a contact; the current widget is lit on the canvas.
import { api, clear, el, errorText, flowSid } from "./common.js";
import { codeLink, level } from "./alerts.js";
import { mountCall } from "./callpanel.js";

const FAST = 500;
const SLOW = 2500;

// What the trigger's wiring means for a simulated contact: which panels to offer, and notes.
function wiring(def) {
  const states = Array.isArray(def.states) ? def.states : [];
  const trigger = states.find((s) => s && s.type === "trigger");
  const wired = new Set((trigger && Array.isArray(trigger.transitions) ? trigger.transitions : [])
    .filter((t) => t && t.next).map((t) => t.event));
  const notes = [];
  if (!wired.has("incomingMessage")) {
    notes.push("The trigger's incomingMessage is not connected: a message starts nothing here.");
  }
  return { notes, calls: wired.has("incomingCall"), messages: wired.has("incomingMessage") };
}

// ctx: flow() -> the flow as loaded, definition() -> the one being edited, highlight(name|null)
export function mountSimulator(host, ctx) {
  const flow = ctx.flow();
  const draftOnly = flow.published_revision !== flow.revision;
  const sim = { cursor: null, alertCursor: null, execution: null, timer: 0, fastUntil: 0, alive: true };
  const contact = el("input", { name: "contact", value: "+15555550100", spellcheck: "false",
    "aria-label": "Contact address" });
  const address = el("input", { name: "address", value: "+15555550199", spellcheck: "false",
    "aria-label": "Flow address" });
  const draft = el("input", { type: "checkbox", name: "draft", checked: draftOnly });
  const chat = el("div", { class: "chat", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const status = el("p", { class: "sim-status muted", "aria-live": "polite" }, "No execution yet.");
  const input = el("input", { name: "message", placeholder: "Type as the contact…", autocomplete: "off",
    "aria-label": "Message from the contact" });
  const composer = el("form", { class: "composer" }, input,
    el("button", { type: "submit", class: "primary" }, "Send"));
  const restStart = el("button", { type: "button", title: "Start with the incomingRequest trigger" },
    "Start by REST API");
  const endButton = el("button", { type: "button", hidden: true }, "End");
  const reset = el("button", { type: "button" }, "Clear");

  const wired = wiring(ctx.definition());
  const messages = el("section", { class: "sim-messages", "aria-label": "Messages" },
    chat, composer, el("div", { class: "row" }, restStart, endButton, reset));
  const calls = el("section", { class: "sim-call", "aria-label": "Call" });
  // A flow that answers calls gets both panels, one at a time: the side column is narrow.
  const modes = el("div", { class: "modes", role: "group", "aria-label": "Simulate" });
  function mode(which) {
    messages.hidden = which !== "messages";
    calls.hidden = which !== "call";
    for (const button of modes.children) button.setAttribute("aria-pressed", String(button.value === which));
  }
  for (const [value, label] of [["messages", "Messages"], ["call", "Call"]]) {
    modes.append(el("button", { type: "button", value, onclick: () => mode(value) }, label));
  }

  host.append(
    el("h2", {}, "Simulator"),
    el("div", { class: "setup" },
      el("label", {}, "Contact", contact), el("label", {}, "Flow number", address)),
    el("label", { class: "check" }, el("span", {}, draft,
      " Run the latest revision (adds the contact to Test Users)")),
    ...(wired.calls ? [modes] : []), messages, calls,
    status);
  mode(wired.calls && !wired.messages ? "call" : "messages");

  const note = (text) => chat.append(el("div", { class: "bubble note" }, text));
  for (const hint of wired.notes) note(hint);

  // A poll may race an action (which answers once the flow ran): both can bring the same
  // message, and the later answer may be the older one. Each message is shown once, and the
  // cursor only moves forward.
  function show(state) {
    sim.cursor = Math.max(sim.cursor ?? 0, state.cursor);
    sim.alertCursor = Math.max(sim.alertCursor ?? 0, state.alert_cursor);
    for (const m of state.messages) {
      if (chat.querySelector(`.bubble[data-id="${Number(m.id)}"]`)) continue;
      chat.append(el("div", { class: `bubble ${m.direction === "inbound" ? "in" : "out"}`,
        dataset: { id: m.id }, title: `${m.from} → ${m.to}` }, m.body));
    }
    // Why a widget failed, as a system line: "Error 11200: http_failed at Fetch: <reason>".
    for (const a of state.alerts) {
      if (chat.querySelector(`.bubble.alert[data-alert="${CSS.escape(a.sid)}"]`)) continue;
      chat.append(el("div", { class: `bubble alert ${level(a)}`, role: "note", dataset: { alert: a.sid } },
        codeLink(a), ": ", a.message));
    }
    if (state.messages.length || state.alerts.length) chat.scrollTop = chat.scrollHeight;
    track(state.execution, state.current);
  }

  // Where the execution is, for the status line and the canvas (from the chat or the call).
  function track(ex, current) {
    const changed = ex && (!sim.execution || sim.execution.sid !== ex.sid ||
      sim.execution.status !== ex.status);
    sim.execution = ex;
    ctx.highlight(current);
    endButton.hidden = !(ex && ex.status === "active");
    clear(status);
    if (!ex) {
      status.append("No execution yet.");
      return;
    }
    status.append(el("a", { href: `/console/flows/${flowSid}/executions/${ex.sid}` }, ex.sid), " · ",
      ex.status === "active"
        ? (current ? `at ${current}` : "running") + (ex.waiting_for ? ` (waiting for ${ex.waiting_for})` : "")
        : "ended");
    if (changed && ex.status === "ended") note("The execution ended.");
  }

  async function call(method, path, body) {
    try {
      show(await api(method, `/flows/${flowSid}/simulator${path}`, body));
    } catch (error) {
      note(errorText(error));
    }
    sim.fastUntil = Date.now() + 4000;
    schedule();
  }

  // Poll fast just after an action (replies come within a sprint), slowly while active
  // (time-outs), and stop when the panel is closed.
  function schedule() {
    clearTimeout(sim.timer);
    if (!sim.alive || !host.isConnected) {
      ctx.highlight(null);
      return;
    }
    const active = sim.execution && sim.execution.status === "active";
    if (!active && Date.now() > sim.fastUntil) return;
    sim.timer = setTimeout(poll, Date.now() < sim.fastUntil ? FAST : SLOW);
  }

  async function poll() {
    if (!host.isConnected) return schedule();
    try {
      const query = new URLSearchParams({ contact: contact.value.trim(), after: String(sim.cursor ?? "now"),
        alerts_after: String(sim.alertCursor ?? 0) });
      show(await api("GET", `/flows/${flowSid}/simulator?${query}`));
    } catch (error) {
      note(errorText(error));
    }
    schedule();
  }

  const common = () => ({ contact: contact.value.trim(), address: address.value.trim(),
    after: sim.cursor || 0, alerts_after: sim.alertCursor || 0 });

  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    const active = sim.execution && sim.execution.status === "active";
    if (active) await call("POST", "/message", { ...common(), body: text });
    else await call("POST", "/start", { ...common(), body: text, mode: "message", run_draft: draft.checked });
    input.focus();
  });
  restStart.addEventListener("click", () =>
    call("POST", "/start", { ...common(), mode: "rest", run_draft: draft.checked }));
  endButton.addEventListener("click", async () => {
    if (!sim.execution) return;
    try {
      await api("POST", `/flows/${flowSid}/executions/${sim.execution.sid}/end`);
    } catch (error) {
      note(errorText(error));
    }
    poll();
  });
  reset.addEventListener("click", () => {
    clear(chat);
    ctx.highlight(null);
  });
  if (wired.calls) {
    mountCall(calls, { from: () => contact.value.trim(), to: () => address.value.trim(),
      draft: () => draft.checked, track });
  }
  contact.addEventListener("change", () => {
    sim.cursor = null;
    sim.alertCursor = null;
    sim.execution = null;
    clear(chat);
    poll();
  });
  poll();
}
