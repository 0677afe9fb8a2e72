// The flow's webhook URL and REST API URL, as Studio's Trigger widget shows them: the first
// goes in a phone number's "A message/call comes in" setting, the second starts executions.
import { el, toast } from "./common.js";

async function copy(label, url, input) {
  try {
    await navigator.clipboard.writeText(url);
    toast(`${label} copied`);
  } catch {
    // No clipboard (plain http on another host): select it for Ctrl+C instead.
    input.focus();
    input.select();
    toast("Press Ctrl+C to copy");
  }
}

function row(label, url) {
  const input = el("input", { readonly: true, value: url, "aria-label": label, spellcheck: "false" });
  return el("label", { class: "trigger-url" }, el("span", { class: "muted" }, label), input,
    el("button", { type: "button", "aria-label": `Copy ${label}`, onclick: () => copy(label, url, input) },
      "Copy"));
}

export function mountTriggerUrls(node) {
  const { webhook, rest } = document.body.dataset;
  if (!node || !webhook) return;
  node.append(row("Webhook URL", webhook), row("REST API URL", rest));
  node.hidden = false;
}
