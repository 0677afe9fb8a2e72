// The simulator's call panel: call the flow, read what the caller hears, answer its gathers.
import { api, el, errorText, flowSid } from "./common.js";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const HOLD_POLL_MS = 1500; // a held call asks the flow again, as Twilio does after its pause
const KEY_PAUSE_MS = 2000; // keypad: a pause this long after the last key sends what was pressed

// What a gather listens for, in words, for the line above the answer forms.
function listensFor(waiting) {
  const keys = waiting.num_digits ? `${waiting.num_digits} key${waiting.num_digits === 1 ? "" : "s"}` : "keys";
  if (waiting.dtmf && waiting.speech) return `The flow waits for ${keys} or speech.`;
  return waiting.speech ? "The flow waits for speech." : `The flow waits for ${keys}.`;
}

// sim: from(), to(), draft() -> the simulator's setup; track(execution, current) -> status + canvas
export function mountCall(host, sim) {
  const call = { sid: null, waiting: null, busy: false, poll: null, keyTimer: null };
  const log = el("div", { class: "chat transcript", role: "log", "aria-live": "polite",
    "aria-label": "Call transcript" });
  const dial = el("button", { type: "button", class: "primary", name: "call" }, "Call");
  const hangUp = el("button", { type: "button", class: "danger", name: "hangup", hidden: true }, "Hang up");
  const prompt = el("p", { class: "muted prompt" });
  const digits = el("input", { name: "digits", inputmode: "tel", autocomplete: "off", spellcheck: "false",
    maxlength: "40", placeholder: "Keys, e.g. 1 or 1234#", "aria-label": "Keys to press" });
  const keysForm = el("form", { class: "answer keys" }, digits,
    el("button", { type: "submit", class: "primary" }, "Press"));
  const keypad = el("div", { class: "keypad", role: "group", "aria-label": "Keypad" },
    KEYS.map((key) => el("button", { type: "button", value: key, "aria-label": `Key ${key}`,
      onclick: () => pressKey(key) }, key)));
  const speech = el("input", { name: "speech", autocomplete: "off", maxlength: "500",
    placeholder: "Words the caller says…", "aria-label": "Speech from the caller" });
  const speechForm = el("form", { class: "answer speech" }, speech,
    el("button", { type: "submit", class: "primary" }, "Say"));
  const silence = el("button", { type: "button", name: "silence", hidden: true,
    title: "Let the gather time out" }, "Stay silent");
  const answers = el("div", { class: "answers", hidden: true }, prompt, keysForm, keypad, speechForm);

  host.append(log, answers, el("div", { class: "row" }, dial, silence, hangUp));

  const line = (kind, text) => {
    log.append(el("div", { class: `bubble ${kind}` }, text));
    log.scrollTop = log.scrollHeight;
  };
  const note = (text) => line("note", text);

  function heard(item) {
    if (item.kind === "say") line("out say", item.text);
    else if (item.kind === "play") line("out play", `▶ ${item.text}`);
    else if (item.kind === "digits") line("out play", `Tones: ${item.text}`);
    else note(item.text);
  }

  function render(result) {
    call.sid = result.call_sid;
    result.lines.forEach(heard);
    call.waiting = result.ended ? null : result.waiting;
    const waiting = call.waiting && !call.waiting.hold ? call.waiting : null;
    clearTimeout(call.poll);
    if (call.waiting && call.waiting.hold) {
      const sid = call.sid;
      call.poll = setTimeout(() => {
        if (call.sid === sid) send(`/${sid}/resume`, {}, null, true);
      }, HOLD_POLL_MS);
    }
    answers.hidden = silence.hidden = !waiting;
    if (waiting) {
      prompt.textContent = listensFor(waiting);
      keysForm.hidden = keypad.hidden = !waiting.dtmf;
      speechForm.hidden = !waiting.speech;
    }
    dial.hidden = !result.ended;
    hangUp.hidden = result.ended;
    if (result.ended) note("The call ended.");
    sim.track(result.execution, result.current);
  }

  // Keyboard users land where the next answer goes (buttons must be enabled to take focus).
  function focusNext() {
    if (call.waiting && call.waiting.hold) hangUp.focus();
    else if (call.waiting) (call.waiting.dtmf ? digits : speech).focus();
    else if (!dial.hidden) dial.focus();
  }

  // One request at a time: a second click must not answer the same gather twice.
  // A hold's poll runs in the background: it must not take the focus (the person may be
  // typing the awaited SMS in the Messages panel).
  async function send(path, body, said, background = false) {
    if (call.busy) return;
    call.busy = true;
    if (!background) for (const button of host.querySelectorAll("button")) button.disabled = true;
    try {
      const result = await api("POST", `/flows/${flowSid}/simulator/call${path}`, body);
      if (said) line("in", said);
      render(result);
      return true;
    } catch (error) {
      note(errorText(error));
      return false;
    } finally {
      call.busy = false;
      if (!background) {
        for (const button of host.querySelectorAll("button")) button.disabled = false;
        focusNext();
      }
    }
  }

  dial.addEventListener("click", () => {
    note(`Calling ${sim.to()} from ${sim.from()}…`);
    send("", { from: sim.from(), to: sim.to(), run_draft: sim.draft() });
  });
  hangUp.addEventListener("click", () => send(`/${call.sid}/hangup`, {}, "(hangs up)"));
  // The keypad sends like a phone: at the gather's number of keys, on #, or after a pause.
  function pressKey(key) {
    clearTimeout(call.keyTimer);
    digits.value += key;
    const wanted = call.waiting && call.waiting.num_digits;
    if (key === "#" || (wanted && digits.value.replace(/#/g, "").length >= wanted)) {
      keysForm.requestSubmit();
    } else {
      digits.focus();
      call.keyTimer = setTimeout(() => { if (digits.value && !answers.hidden) keysForm.requestSubmit(); },
        KEY_PAUSE_MS);
    }
  }
  keysForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(call.keyTimer);
    const keys = digits.value.trim();
    if (await send(`/${call.sid}/gather`, { digits: keys }, `Pressed ${keys}`)) digits.value = "";
  });
  speechForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const words = speech.value.trim();
    if (await send(`/${call.sid}/gather`, { speech: words }, `“${words}”`)) speech.value = "";
  });
  silence.addEventListener("click", () => send(`/${call.sid}/gather`, { silence: true }, "(silence)"));
}
