// The SVG canvas: widgets as cards at their offsets, transitions as arrows, pan and zoom,
// drag to move, drag from an event to a widget to connect (to empty space to disconnect).
import { clear, el, svg } from "./common.js";
import { edgeState, neverRan } from "./overlay.js";
import { curve, portsOf, textWidth, truncate } from "./ports.js";
import SPECS from "./specs.js";

const CARD_MIN = 200;
const CARD_H = 78;
const PORT_Y = 48;
const PORT_H = 20;
const PORT_GAP = 6;
const PAD = 10;
const MIN_FIT = 0.6;
const MIN_ZOOM = 0.02;  // Fit may go this far out so the largest flows show whole.

export class Canvas {
  // options: editable, onSelect(name), onMove(name, x, y), onConnect(from, port, to),
  // onDisconnect(from, port), onDelete(name), label
  constructor(host, options = {}) {
    this.host = host;
    this.opt = options;
    this.view = { x: 40, y: 40, k: 1 };
    this.def = { states: [] };
    this.boxes = new Map();
    this.deco = {};
    this.selected = null;
    this.root = svg("svg", {
      class: "canvas", tabindex: 0, role: "group",
      "aria-label": (options.label || "Flow canvas") +
        ". Arrow keys pan, plus and minus zoom, 0 fits; Tab moves between widgets.",
    });
    this.root.append(svg("defs", {},
      this.marker("arrow", "arrow-head"), this.marker("arrow-taken", "arrow-head taken"),
      this.marker("arrow-untaken", "arrow-head untaken")));
    this.viewport = svg("g", { class: "viewport" });
    this.edges = svg("g", { class: "edges" });
    this.cards = svg("g", { class: "cards" });
    this.temp = svg("g", { class: "temp" });
    this.viewport.append(this.edges, this.cards, this.temp);
    this.root.append(this.viewport);
    const zoom = el("div", { class: "zoom", role: "group", "aria-label": "Zoom" },
      el("button", { type: "button", onclick: () => this.zoomBy(1.25), "aria-label": "Zoom in" }, "+"),
      el("button", { type: "button", onclick: () => this.zoomBy(0.8), "aria-label": "Zoom out" }, "−"),
      el("button", { type: "button", onclick: () => this.fit(true), "aria-label": "Fit to screen" }, "Fit"));
    clear(host).append(this.root, zoom);
    this.bind();
  }

  marker(id, cls) {
    return svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M0,0 L10,5 L0,10 z", class: cls }));
  }

  setDefinition(def) {
    this.def = def;
    this.render();
  }

  // problems: Map name -> {errors, warnings}; visited: Set; taken: Set "from|event|to";
  // current: name; counts: Map name -> number; failed: Map name -> "error" | "warning";
  // coverage: {ran, edges} (overlay.js).
  setDecorations(deco) {
    this.deco = { ...this.deco, ...deco };
    this.render();
  }

  states() {
    return Array.isArray(this.def.states) ? this.def.states.filter((s) => s && s.name) : [];
  }

  layout() {
    this.boxes.clear();
    this.states().forEach((state, i) => {
      const ports = portsOf(state);
      const widths = ports.map((p) => Math.ceil(textWidth(p.label)) + 18);
      const width = Math.max(CARD_MIN, widths.reduce((a, b) => a + b + PORT_GAP, PAD * 2 - PORT_GAP));
      const off = state.properties && state.properties.offset;
      const hasOffset = off && Number.isFinite(off.x) && Number.isFinite(off.y);
      const x = hasOffset ? off.x : (i % 4) * 280;
      const y = hasOffset ? off.y : Math.floor(i / 4) * 180;
      let px = PAD;
      const placed = ports.map((p, j) => {
        const box = { ...p, x: px, w: widths[j] };
        px += widths[j] + PORT_GAP;
        return box;
      });
      this.boxes.set(state.name, { state, x, y, w: width, h: CARD_H, ports: placed });
    });
  }

  render() {
    // Redrawing mid-drag would swap the dragged card for a new node; wait for the drop.
    if (this.dragging) {
      this.pendingRender = true;
      return;
    }
    this.pendingRender = false;
    const focused = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest(".card");
    const focusName = focused && this.root.contains(focused) ? focused.dataset.widget : null;
    this.layout();
    clear(this.cards);
    for (const box of this.boxes.values()) this.cards.append(this.card(box));
    this.drawEdges();
    this.root.dispatchEvent(new Event("layout")); // the minimap redraws its widgets
    this.apply();
    if (focusName) this.focus(focusName);
  }

  card(box) {
    const { state } = box;
    const spec = SPECS.widgets[state.type];
    const deco = this.deco;
    const problems = deco.problems && deco.problems.get(state.name);
    const classes = ["card", `cat-${spec ? spec.category : "unknown"}`];
    if (state.name === this.selected) classes.push("selected");
    if (problems && problems.errors.length) classes.push("has-error");
    else if (problems && problems.warnings.length) classes.push("has-warning");
    if (deco.visited && deco.visited.has(state.name)) classes.push("visited");
    if (deco.current === state.name) classes.push("current");
    if (neverRan(deco.coverage, state.name)) classes.push("unrun");
    const failed = deco.failed && deco.failed.get(state.name);
    if (failed) classes.push(failed === "warning" ? "widget-warned" : "widget-failed");
    const typeLabel = spec ? spec.label : `${state.type} (unknown type)`;
    const described = [state.name, typeLabel];
    if (problems && problems.errors.length) described.push(`${problems.errors.length} errors`);
    if (problems && problems.warnings.length) described.push(`${problems.warnings.length} warnings`);
    if (failed) described.push(failed === "warning" ? "raised a warning" : "failed");
    if (classes.includes("unrun")) described.push("never ran");
    const g = svg("g", {
      class: classes.join(" "), transform: `translate(${box.x},${box.y})`, tabindex: 0,
      role: "button", "aria-label": described.join(", "), dataset: { widget: state.name },
    },
    svg("rect", { class: "body", width: box.w, height: box.h, rx: 8 }),
    svg("rect", { class: "stripe", width: box.w, height: 5, rx: 2 }),
    svg("text", { class: "name", x: PAD, y: 23 }, truncate(state.name, box.w - 40, 8)),
    svg("text", { class: "type", x: PAD, y: 39 }, truncate(typeLabel, box.w - 20, 6.5)));
    for (const port of box.ports) {
      const connected = port.next ? " connected" : "";
      const cov = edgeState(deco.coverage, state.name, port);
      g.append(svg("g", {
        class: "port" + connected + (cov ? cov.cls : ""), transform: `translate(${port.x},${PORT_Y})`,
        dataset: { event: port.event, index: port.index },
      },
      svg("title", {}, (this.opt.editable
        ? `${port.label}: drag to a widget to connect, to empty space to disconnect`
        : port.label) + (cov ? `\n${cov.title}` : "")),
      svg("rect", { width: port.w, height: PORT_H, rx: 10 }),
      svg("text", { x: port.w / 2, y: 14, "text-anchor": "middle" }, port.label),
      svg("circle", { class: "dot", cx: port.w / 2, cy: box.h - PORT_Y, r: 5 })));
    }
    if (problems && (problems.errors.length || problems.warnings.length)) {
      const n = problems.errors.length || problems.warnings.length;
      const kind = problems.errors.length ? "error" : "warning";
      g.append(svg("g", { class: `badge ${kind}`, transform: `translate(${box.w - 12},12)` },
        svg("title", {}, [...problems.errors, ...problems.warnings].join("\n")),
        svg("circle", { r: 10 }),
        svg("text", { "text-anchor": "middle", y: 4 }, n)));
    }
    if (deco.counts) {
      const n = deco.counts.get(state.name) || 0;
      g.append(svg("g", { class: "count", transform: `translate(0,-12)` },
        svg("rect", { width: 44 + String(n).length * 7, height: 18, rx: 9 }),
        svg("text", { x: 8, y: 13 }, `${n} ran`)));
    }
    return g;
  }

  anchor(box, port) {
    return [box.x + port.x + port.w / 2, box.y + box.h];
  }

  drawEdges() {
    clear(this.edges);
    const taken = this.deco.taken || new Set();
    for (const box of this.boxes.values()) {
      for (const port of box.ports) {
        const target = port.next && this.boxes.get(port.next);
        if (!target) continue;
        const [x1, y1] = this.anchor(box, port);
        const x2 = target.x + target.w / 2;
        const y2 = target.y;
        const isTaken = taken.has(`${box.state.name}|${port.event}|${port.next}`);
        const cov = edgeState(this.deco.coverage, box.state.name, port);
        const head = cov ? (cov.count ? "arrow-taken" : "arrow-untaken") : isTaken ? "arrow-taken" : "arrow";
        this.edges.append(svg("path", {
          d: curve(x1, y1, x2, y2), class: "edge" + (isTaken ? " taken" : "") + (cov ? cov.cls : ""),
          "marker-end": `url(#${head})`,
          dataset: { from: box.state.name, event: port.event, to: port.next },
        }, cov && svg("title", {}, `${box.state.name} → ${port.label} → ${port.next}: ${cov.title}`)));
        if (cov) this.edges.append(svg("text", { class: "edge-count" + cov.cls, x: x1 + 5, y: y1 + 15 }, cov.label));
      }
    }
  }

  apply() {
    const { x, y, k } = this.view;
    this.viewport.setAttribute("transform", `translate(${x},${y}) scale(${k})`);
    this.root.dispatchEvent(new Event("viewchange"));
  }

  // Puts a widget in the middle of the canvas, zooming in to a readable size if need be.
  center(name, minZoom = 0.8) {
    const [box, rect] = [this.boxes.get(name), this.root.getBoundingClientRect()];
    if (!box || !rect.width) return;
    const k = Math.max(this.view.k, minZoom);
    this.view = { k, x: rect.width / 2 - (box.x + box.w / 2) * k, y: rect.height / 2 - (box.y + box.h / 2) * k };
    this.apply();
  }

  zoomBy(factor, cx, cy) {
    const rect = this.root.getBoundingClientRect();
    const sx = cx === undefined ? rect.width / 2 : cx;
    const sy = cy === undefined ? rect.height / 2 : cy;
    const k = Math.min(3, Math.max(MIN_ZOOM, this.view.k * factor));
    const wx = (sx - this.view.x) / this.view.k;
    const wy = (sy - this.view.y) / this.view.k;
    this.view = { x: sx - wx * k, y: sy - wy * k, k };
    this.apply();
  }

  // whole: show every widget however small; otherwise never zoom out below MIN_FIT.
  fit(whole = false) {
    const rect = this.root.getBoundingClientRect();
    if (!this.boxes.size || !rect.width) return;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const b of this.boxes.values()) {
      minX = Math.min(minX, b.x); minY = Math.min(minY, b.y - 14);
      maxX = Math.max(maxX, b.x + b.w); maxY = Math.max(maxY, b.y + b.h);
    }
    const k = Math.max(MIN_ZOOM, Math.min(1, (rect.width - 40) / (maxX - minX),
      (rect.height - 40) / (maxY - minY)));
    const floor = rect.width < 600 ? MIN_FIT * 0.75 : MIN_FIT;
    if (k >= floor || whole) {
      this.view = {
        k, x: (rect.width - (maxX - minX) * k) / 2 - minX * k,
        y: (rect.height - (maxY - minY) * k) / 2 - minY * k,
      };
    } else {
      // A big flow would be unreadable whole: start at its trigger, at a readable zoom.
      const start = this.boxes.get(this.def.initial_state) || [...this.boxes.values()][0];
      this.view = { k: floor, x: rect.width / 2 - (start.x + start.w / 2) * floor,
        y: 30 - (start.y - 14) * floor };
    }
    this.apply();
  }

  // Scrolls a widget into view without changing the zoom.
  reveal(name) {
    const box = this.boxes.get(name);
    const rect = this.root.getBoundingClientRect();
    if (!box || !rect.width) return;
    const { x, y, k } = this.view;
    const [sx, sy] = [box.x * k + x, box.y * k + y];
    if (sx < 0 || sy < 0 || sx + box.w * k > rect.width || sy + box.h * k > rect.height) this.center(name, 0);
  }

  select(name) {
    this.selected = name;
    for (const node of this.cards.querySelectorAll(".card")) {
      node.classList.toggle("selected", node.dataset.widget === name);
    }
  }

  focus(name) {
    const node = [...this.cards.querySelectorAll(".card")].find((n) => n.dataset.widget === name);
    if (node) node.focus({ preventScroll: true });
  }

  // Point in world coordinates under a pointer event.
  world(event) {
    const rect = this.root.getBoundingClientRect();
    return [(event.clientX - rect.left - this.view.x) / this.view.k,
      (event.clientY - rect.top - this.view.y) / this.view.k];
  }

  bind() {
    const root = this.root;
    root.addEventListener("pointerdown", (event) => this.pointerDown(event));
    root.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = root.getBoundingClientRect();
      this.zoomBy(Math.exp(-event.deltaY * 0.0015), event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    root.addEventListener("keydown", (event) => this.key(event));
  }

  pointerDown(event) {
    if (event.button !== 0) return;
    const port = event.target.closest(".port");
    const card = event.target.closest(".card");
    this.root.setPointerCapture(event.pointerId);
    const start = { x: event.clientX, y: event.clientY };
    let moved = false;
    let onMove;
    let onUp;
    if (card && port && this.opt.editable) {
      const box = this.boxes.get(card.dataset.widget);
      const info = box.ports.find((p) => p.event === port.dataset.event &&
        String(p.index) === port.dataset.index);
      const [x1, y1] = this.anchor(box, info);
      const line = svg("path", { class: "edge drawing", "marker-end": "url(#arrow)" });
      this.temp.append(line);
      onMove = (e) => {
        const [wx, wy] = this.world(e);
        line.setAttribute("d", curve(x1, y1, wx, wy));
      };
      onUp = (e) => {
        line.remove();
        const hit = document.elementFromPoint(e.clientX, e.clientY);
        const target = hit && hit.closest && hit.closest(".card");
        if (!moved) this.opt.onSelect && this.opt.onSelect(box.state.name);
        else if (target && this.root.contains(target)) {
          this.opt.onConnect(box.state.name, info, target.dataset.widget);
        } else if (info.next) this.opt.onDisconnect(box.state.name, info);
      };
    } else if (card) {
      const name = card.dataset.widget;
      const box = this.boxes.get(name);
      const origin = { x: box.x, y: box.y };
      onMove = (e) => {
        if (!this.opt.editable) return;
        box.x = Math.round(origin.x + (e.clientX - start.x) / this.view.k);
        box.y = Math.round(origin.y + (e.clientY - start.y) / this.view.k);
        card.setAttribute("transform", `translate(${box.x},${box.y})`);
        this.scheduleEdges();
      };
      onUp = () => {
        if (moved && this.opt.editable) this.opt.onMove(name, box.x, box.y);
        else this.opt.onSelect && this.opt.onSelect(name);
      };
    } else {
      const origin = { ...this.view };
      this.root.classList.add("panning");
      onMove = (e) => {
        this.view.x = origin.x + e.clientX - start.x;
        this.view.y = origin.y + e.clientY - start.y;
        this.apply();
      };
      onUp = () => {
        this.root.classList.remove("panning");
        if (!moved && this.opt.onSelect) this.opt.onSelect(null);
      };
    }
    this.dragging = true;
    const move = (e) => {
      if (Math.abs(e.clientX - start.x) + Math.abs(e.clientY - start.y) > 3) moved = true;
      if (moved) onMove(e);
    };
    const up = (e) => {
      this.root.removeEventListener("pointermove", move);
      this.root.removeEventListener("pointerup", up);
      this.root.removeEventListener("pointercancel", up);
      this.dragging = false;
      onUp(e);
      if (this.pendingRender) this.render();
    };
    this.root.addEventListener("pointermove", move);
    this.root.addEventListener("pointerup", up);
    this.root.addEventListener("pointercancel", up);
  }

  scheduleEdges() {
    if (this.edgeFrame) return;
    this.edgeFrame = requestAnimationFrame(() => {
      this.edgeFrame = 0;
      this.drawEdges();
    });
  }

  key(event) {
    const card = event.target.closest && event.target.closest(".card");
    const step = event.shiftKey ? 50 : 10;
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (card) {
      const name = card.dataset.widget;
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.opt.onSelect && this.opt.onSelect(name, { open: true });
      } else if (arrows[event.key] && this.opt.editable) {
        event.preventDefault();
        const box = this.boxes.get(name);
        const [dx, dy] = arrows[event.key];
        this.opt.onMove(name, box.x + dx * step, box.y + dy * step);
      } else if ((event.key === "Delete" || event.key === "Backspace") && this.opt.editable) {
        event.preventDefault();
        this.opt.onDelete && this.opt.onDelete(name);
      } else if (event.key === "Escape") {
        this.opt.onSelect && this.opt.onSelect(null);
        this.root.focus();
      }
      return;
    }
    if (arrows[event.key]) {
      event.preventDefault();
      const [dx, dy] = arrows[event.key];
      this.view.x -= dx * step * 4;
      this.view.y -= dy * step * 4;
      this.apply();
    } else if (event.key === "+" || event.key === "=") this.zoomBy(1.2);
    else if (event.key === "-") this.zoomBy(1 / 1.2);
    else if (event.key === "0") this.fit(true);
  }
}
