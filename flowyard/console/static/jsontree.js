// A collapsible JSON tree built on <details>/<summary>: keyboard and screen-reader friendly.
import { clear, el } from "./common.js";

function leaf(value) {
  if (value === null) return el("span", { class: "z" }, "null");
  if (typeof value === "string") return el("span", { class: "s" }, JSON.stringify(value));
  if (typeof value === "number") return el("span", { class: "n" }, String(value));
  if (typeof value === "boolean") return el("span", { class: "b" }, String(value));
  return el("span", {}, String(value));
}

function node(key, value, depth, openDepth, path) {
  const label = key === null ? "" : [el("span", { class: "k" }, key), ": "];
  if (value === null || typeof value !== "object") {
    return el("li", { dataset: { path } }, label, leaf(value));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const brief = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  const details = el("details", { open: depth < openDepth, dataset: { path } },
    el("summary", {}, label, el("span", { class: "z" }, brief)));
  // Children are built when first opened, so a large context costs nothing until explored.
  const fill = () => {
    if (details.dataset.filled) return;
    details.dataset.filled = "1";
    details.append(el("ul", {}, entries.map(([k, v]) =>
      node(k, v, depth + 1, openDepth, path ? `${path}.${k}` : k))));
  };
  if (details.open) fill();
  else details.addEventListener("toggle", fill, { once: true });
  return el("li", {}, details);
}

export function renderTree(host, value, { openDepth = 1 } = {}) {
  clear(host).append(el("ul", { class: "root", role: "tree" }, node(null, value, 0, openDepth, "")));
}
