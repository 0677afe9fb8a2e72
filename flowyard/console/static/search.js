// Widget search on the canvas: "/" or Ctrl+F (canvas focused) opens it; it lists the widgets
// whose name or type matches, Enter goes to the next match, and the chosen one is centered.
import { clear, el } from "./common.js";
import SPECS from "./specs.js";

const SHOWN = 8;

// onPick(name): the page selects the widget (the canvas then marks it).
export function mountSearch(canvas, host, { onPick } = {}) {
  const input = el("input", { type: "search", class: "widget-search", placeholder: "Find a widget  /",
    "aria-label": "Find a widget by name or type", autocomplete: "off", spellcheck: "false",
    role: "combobox", "aria-expanded": "false", "aria-controls": "search-results" });
  const list = el("ul", { id: "search-results", class: "search-results", role: "listbox", hidden: true });
  const status = el("span", { class: "search-count", "aria-live": "polite" });
  host.append(el("div", { class: "search-box", role: "search" }, input, status, list));
  let matches = [];
  let current = -1;

  const find = (text) => {
    const q = text.trim().toLowerCase();
    if (!q) return [];
    return canvas.states().filter((s) => {
      const spec = SPECS.widgets[s.type];
      return [s.name, s.type, spec && spec.label].some((v) => v && v.toLowerCase().includes(q));
    }).map((s) => s.name);
  };

  const show = () => {
    clear(list);
    matches.slice(0, SHOWN).forEach((name, i) => {
      const state = canvas.states().find((s) => s.name === name);
      const spec = state && SPECS.widgets[state.type];
      list.append(el("li", { role: "option", id: `search-option-${i}`, "aria-selected": String(i === current),
        dataset: { widget: name },
        onpointerdown: (event) => { event.preventDefault(); go(i); } },
      el("strong", {}, name), " ", el("span", { class: "muted" }, spec ? spec.label : state.type)));
    });
    if (matches.length > SHOWN) list.append(el("li", { class: "muted" }, `and ${matches.length - SHOWN} more`));
    list.hidden = !input.value.trim();
    input.setAttribute("aria-expanded", String(!list.hidden));
    if (current >= 0 && current < SHOWN) input.setAttribute("aria-activedescendant", `search-option-${current}`);
    else input.removeAttribute("aria-activedescendant");
    status.textContent = input.value.trim()
      ? (matches.length ? `${current + 1} of ${matches.length}` : "no match") : "";
  };

  const go = (i) => {
    if (!matches.length) return;
    current = (i + matches.length) % matches.length;
    const name = matches[current];
    if (onPick) onPick(name);
    else canvas.select(name);
    canvas.center(name);
    show();
  };

  input.addEventListener("input", () => {
    matches = find(input.value);
    current = -1;
    show();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      go(event.shiftKey ? current - 1 : current + 1);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      go(current + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Escape") {
      input.value = "";
      matches = [];
      show();
      canvas.root.focus();
    }
  });
  input.addEventListener("blur", () => { list.hidden = true; });
  input.addEventListener("focus", () => show());
  canvas.root.addEventListener("keydown", (event) => {
    const mod = event.ctrlKey || event.metaKey;
    if (event.key === "/" || (mod && event.key.toLowerCase() === "f")) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
}
