// What a card shows: its ports (one per event or match branch), text sizes and arrow shapes.
import SPECS from "./specs.js";

const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

let measurer = null;
const widths = new Map();
export function textWidth(text) {
  if (!measurer) {
    measurer = document.createElement("canvas").getContext("2d");
    measurer.font = FONT;
  }
  if (!widths.has(text)) widths.set(text, measurer.measureText(text).width);
  return widths.get(text);
}

export function truncate(text, width, perChar = 7.5) {
  const max = Math.max(4, Math.floor(width / perChar));
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function matchLabel(transition) {
  const first = Array.isArray(transition.conditions) ? transition.conditions[0] : null;
  const label = (first && first.friendly_name) || "match";
  return label.length > 28 ? label.slice(0, 27) + "…" : label;
}

// One port per event (the first transition for it), one per match transition of a split
// (``match``: its index among the split's conditions, as coverage files count them), and one
// per transition whose event the widget type does not know.
export function portsOf(state) {
  const spec = SPECS.widgets[state.type];
  const transitions = Array.isArray(state.transitions) ? state.transitions : [];
  const known = spec ? spec.events : [];
  const ports = [];
  for (const event of known) {
    if (event === "match") {
      let match = 0;
      transitions.forEach((t, index) => {
        if (t && t.event === "match") {
          ports.push({ event, index, match: match++, label: matchLabel(t), next: t.next || "" });
        }
      });
    } else {
      const index = transitions.findIndex((t) => t && t.event === event);
      const next = index >= 0 ? transitions[index].next || "" : "";
      ports.push({ event, index, label: event, next });
    }
  }
  transitions.forEach((t, index) => {
    if (t && !known.includes(t.event)) {
      ports.push({ event: String(t.event), index, label: String(t.event), next: t.next || "" });
    }
  });
  return ports;
}

export function curve(x1, y1, x2, y2) {
  const dy = Math.max(40, Math.abs(y2 - y1) / 2);
  return `M${x1},${y1} C${x1},${y1 + dy} ${x2},${y2 - dy} ${x2},${y2}`;
}
