// The canvas minimap: every widget as a small box, the visible part as a rectangle; a click
// or drag on it moves the canvas there.
import { el, svg } from "./common.js";

const MARGIN = 40;

export function mountMinimap(canvas, host) {
  const frame = svg("rect", { class: "minimap-view" });
  const cards = svg("g", { class: "minimap-cards" });
  const map = svg("svg", { class: "minimap", role: "img", "aria-hidden": "true" }, cards, frame);
  const box = el("div", { class: "minimap-box", title: "Overview: click or drag to move the canvas" }, map);
  host.append(box);

  const drawCards = () => {
    cards.replaceChildren();
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const b of canvas.boxes.values()) {
      minX = Math.min(minX, b.x); minY = Math.min(minY, b.y);
      maxX = Math.max(maxX, b.x + b.w); maxY = Math.max(maxY, b.y + b.h);
      cards.append(svg("rect", { class: "minimap-card", x: b.x, y: b.y, width: b.w, height: b.h, rx: 8 }));
    }
    box.hidden = !canvas.boxes.size;
    if (!canvas.boxes.size) return;
    map.setAttribute("viewBox", [minX - MARGIN, minY - MARGIN,
      maxX - minX + 2 * MARGIN, maxY - minY + 2 * MARGIN].join(" "));
  };

  const drawFrame = () => {
    const rect = canvas.root.getBoundingClientRect();
    const { x, y, k } = canvas.view;
    frame.setAttribute("x", -x / k);
    frame.setAttribute("y", -y / k);
    frame.setAttribute("width", rect.width / k);
    frame.setAttribute("height", rect.height / k);
  };

  // Where a pointer on the minimap is, in the canvas's own coordinates.
  const worldAt = (event) => {
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(map.getScreenCTM().inverse());
    return [point.x, point.y];
  };

  const moveTo = (event) => {
    const rect = canvas.root.getBoundingClientRect();
    const [wx, wy] = worldAt(event);
    canvas.view.x = rect.width / 2 - wx * canvas.view.k;
    canvas.view.y = rect.height / 2 - wy * canvas.view.k;
    canvas.apply();
  };

  map.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    map.setPointerCapture(event.pointerId);
    moveTo(event);
    const move = (e) => moveTo(e);
    const up = () => {
      map.removeEventListener("pointermove", move);
      map.removeEventListener("pointerup", up);
      map.removeEventListener("pointercancel", up);
    };
    map.addEventListener("pointermove", move);
    map.addEventListener("pointerup", up);
    map.addEventListener("pointercancel", up);
  });
  canvas.root.addEventListener("layout", drawCards);
  canvas.root.addEventListener("viewchange", drawFrame);
  new ResizeObserver(drawFrame).observe(canvas.root);
  drawCards();
  drawFrame();
}
