// Shared helpers: the JSON API client (with the CSRF header), DOM builders, toasts, dates.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

export const flowSid = document.body.dataset.flow || "";

export class ApiError extends Error {
  constructor(status, data) {
    super((data && data.message) || `HTTP ${status}`);
    this.status = status;
    this.data = data || {};
  }
}

// Calls /console/api/<path>; a lost session sends the browser back to the sign-in page.
export async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") options.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("/console/api" + path, options);
  if (response.status === 401) {
    location.assign("/console/login?next=" + encodeURIComponent(location.pathname));
    throw new ApiError(401, { message: "Signed out" });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// el("a", {href: "/x", class: "y", onclick: fn}, "text", child) — text is never parsed as HTML.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "value" && "value" in node) {
      node.value = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

let toastTimer = 0;

export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.className = "show " + kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.className = ""), kind === "error" ? 8000 : 3500);
}

export function errorText(error) {
  if (error instanceof ApiError) return error.data.message || error.message;
  return String(error && error.message ? error.message : error);
}

// Twilio dates are UTC ("2024-05-01T10:00:00Z"); show them in the browser's time zone, with
// that zone's offset so a time is never ambiguous: "2026-11-30 13:12:19 UTC+01:00", or
// "2026-11-30 12:12:19 UTC" where the browser runs on UTC.
export function fmtDate(value) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const pad = (n) => String(n).padStart(2, "0");
  const offset = -d.getTimezoneOffset();
  const zone = offset === 0 ? "UTC" : `UTC${offset < 0 ? "-" : "+"}` +
    `${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

export function debounce(fn, ms) {
  let timer = 0;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.flush = (...args) => {
    clearTimeout(timer);
    fn(...args);
  };
  return wrapped;
}

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// "#/states/3/properties/timeout" -> {index: 3, rest: ["properties", "timeout"]}
export function parsePath(path) {
  const parts = String(path || "").replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts[0] !== "states" || parts.length < 2) return { index: -1, rest: parts };
  return { index: Number(parts[1]), rest: parts.slice(2) };
}
