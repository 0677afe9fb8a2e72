// The inspector: a form for one widget, built from the same per-widget table the validator
// reads (labels, kinds, required, enums), plus its transitions and split conditions.
import { clear, el } from "./common.js";
import { portsOf } from "./ports.js";
import SPECS from "./specs.js";

const MULTILINE = new Set(["body", "say", "attributes", "task_attributes", "chat_attributes",
  "welcome_greeting", "participants"]);
let uid = 0;

// ctx: state, index, names, problems {errors, warnings} (items {message, rest}), editable,
// change(mutate, {structural}), rename(name) -> error|null, remove(), connect(port, to)
export function renderInspector(host, ctx) {
  clear(host);
  const { state } = ctx;
  const spec = SPECS.widgets[state.type];
  host.append(el("h2", {}, state.name),
    el("p", { class: "muted" }, spec ? `${spec.label} — ${spec.description}` : `Unknown type ${state.type}`));
  host.append(problemList(ctx.problems));
  const form = el("form", { class: "inspector", onsubmit: (e) => e.preventDefault() });
  form.append(nameField(ctx));
  if (spec) {
    const fields = el("fieldset", {}, el("legend", {}, "Properties"));
    for (const prop of spec.properties) fields.append(field(prop, ctx));
    if (spec.require_one_of.length) {
      fields.append(el("p", { class: "muted" },
        spec.require_one_of.map((g) => `One of ${g.join(" / ")} is required.`).join(" ")));
    }
    form.append(fields);
  }
  form.append(transitions(ctx));
  if (ctx.editable) {
    form.append(el("button", {
      type: "button", class: "danger", disabled: state.type === "trigger",
      onclick: () => ctx.remove(),
    }, state.type === "trigger" ? "The trigger cannot be deleted" : `Delete ${state.name}`));
  }
  form.querySelectorAll("input, select, textarea, button.row-op").forEach((n) => {
    if (!ctx.editable) n.disabled = true;
  });
  host.append(form);
}

function problemList(problems) {
  const items = [
    ...problems.errors.map((p) => el("li", { class: "error" }, "Error: ", p.message)),
    ...problems.warnings.map((p) => el("li", { class: "warning" }, "Warning: ", p.message)),
  ];
  return items.length ? el("ul", { class: "problems-list", role: "list" }, items) : "";
}

function messagesFor(ctx, name) {
  const match = (p) => p.rest[0] === "properties" && p.rest[1] === name;
  return [...ctx.problems.errors.filter(match), ...ctx.problems.warnings.filter(match)];
}

function wrap(label, control, help, problems, required) {
  const id = control.id || (control.id = `f${++uid}`);
  const notes = [];
  if (help) notes.push(el("small", { id: `${id}-help` }, help));
  for (const p of problems) notes.push(el("small", { class: "field-error", role: "alert" }, p.message));
  if (help) control.setAttribute("aria-describedby", `${id}-help`);
  if (problems.length) control.setAttribute("aria-invalid", "true");
  return el("div", { class: "field" },
    el("label", { for: id }, label, required ? el("span", { class: "req", title: "required" }, " *") : ""),
    control, notes);
}

function nameField(ctx) {
  const input = el("input", { value: ctx.state.name, spellcheck: "false", name: "widget-name" });
  const note = el("small", { class: "field-error", role: "alert" });
  input.addEventListener("change", () => {
    const error = ctx.rename(input.value.trim());
    note.textContent = error || "";
    if (error) input.value = ctx.state.name;
  });
  const box = wrap("Widget name", input, "Renaming updates every transition that points here.", [], true);
  box.append(note);
  return box;
}

function setProp(ctx, name, value, structural = false) {
  ctx.change((state) => {
    state.properties = state.properties || {};
    if (value === undefined) delete state.properties[name];
    else state.properties[name] = value;
  }, { structural });
}

// Keeps a value's JSON type when the typed text can still be represented in it.
function typed(text, original, kinds) {
  if (text === "") return undefined;
  if (kinds.includes("integer") && /^-?\d+$/.test(text) &&
      (typeof original === "number" || !kinds.includes("string"))) return Number(text);
  if (kinds.includes("boolean") && (text === "true" || text === "false") &&
      (typeof original === "boolean" || !kinds.includes("string"))) return text === "true";
  return text;
}

function field(prop, ctx) {
  const props = ctx.state.properties || {};
  const value = props[prop.name];
  const kinds = prop.kinds;
  const problems = messagesFor(ctx, prop.name);
  const label = prop.label + (prop.label.toLowerCase() === prop.name ? "" : ` (${prop.name})`);
  let control;
  if (kinds.length === 1 && kinds[0] === "boolean") {
    control = el("select", { name: prop.name },
      el("option", { value: "" }, "(not set)"), el("option", { value: "true" }, "true"),
      el("option", { value: "false" }, "false"));
    control.value = value === true ? "true" : value === false ? "false" : "";
    control.addEventListener("change", () =>
      setProp(ctx, prop.name, control.value === "" ? undefined : control.value === "true"));
  } else if (kinds.length === 1 && (kinds[0] === "integer" || kinds[0] === "number")) {
    control = el("input", { type: "number", name: prop.name, step: kinds[0] === "integer" ? 1 : "any",
      min: prop.minimum, max: prop.maximum, value: value ?? "", placeholder: placeholder(prop) });
    control.addEventListener("input", () =>
      setProp(ctx, prop.name, control.value === "" ? undefined : Number(control.value)));
  } else if (kinds.every((k) => ["string", "integer", "boolean"].includes(k))) {
    control = scalarControl(prop, value, ctx);
  } else if (kinds.length === 1 && kinds[0] === "array" && prop.items && prop.items.fields) {
    return rowsField(prop, value, ctx, problems);
  } else if (kinds.length === 1 && kinds[0] === "array" && prop.items &&
             prop.items.kinds.join() === "string") {
    control = el("textarea", { name: prop.name, rows: 3, value: Array.isArray(value) ? value.join("\n") : "" });
    control.addEventListener("input", () => {
      const lines = control.value.split("\n").map((s) => s.trim()).filter(Boolean);
      setProp(ctx, prop.name, lines.length ? lines : undefined);
    });
    prop = { ...prop, description: (prop.description || "") + " One per line." };
  } else {
    return jsonField(prop, value, ctx, problems, label);
  }
  return wrap(label, control, prop.description, problems, prop.required);
}

function placeholder(prop) {
  return prop.default !== undefined ? `default ${prop.default}` : "";
}

function scalarControl(prop, value, ctx) {
  const text = value === undefined || value === null ? "" : String(value);
  const strictSelect = prop.enum && prop.enum_strict && prop.liquid === false;
  let control;
  if (strictSelect) {
    control = el("select", { name: prop.name },
      prop.required ? "" : el("option", { value: "" }, "(not set)"),
      prop.enum.map((v) => el("option", { value: v }, v)));
    control.value = text;
    control.addEventListener("change", () => setProp(ctx, prop.name, control.value || undefined));
    return control;
  }
  if (MULTILINE.has(prop.name)) {
    control = el("textarea", { name: prop.name, rows: 3, value: text, placeholder: placeholder(prop) });
  } else {
    control = el("input", { name: prop.name, value: text, spellcheck: "false", placeholder: placeholder(prop) });
  }
  const options = prop.enum || (prop.kinds.includes("boolean") ? ["true", "false"] : null);
  if (options) {
    const list = el("datalist", { id: `dl${++uid}` }, options.map((v) => el("option", { value: v })));
    control.setAttribute("list", list.id);
    // The control is placed in its field box right after this returns.
    queueMicrotask(() => control.after(list));
  }
  control.addEventListener("input", () => {
    // An emptied optional field is removed; a required one stays as "" so the validator says so.
    const raw = control.value;
    setProp(ctx, prop.name, raw === "" && prop.required ? "" : typed(raw, value, prop.kinds));
  });
  return control;
}

function jsonField(prop, value, ctx, problems, label) {
  const control = el("textarea", { name: prop.name, rows: 4, class: "code", spellcheck: "false",
    value: value === undefined ? "" : JSON.stringify(value, null, 2) });
  const note = el("small", { class: "field-error", role: "alert" });
  control.addEventListener("input", () => {
    if (control.value.trim() === "") {
      note.textContent = "";
      setProp(ctx, prop.name, undefined);
      return;
    }
    try {
      const parsed = JSON.parse(control.value);
      note.textContent = "";
      setProp(ctx, prop.name, parsed);
    } catch (error) {
      note.textContent = `Not JSON yet: ${error.message}`;
    }
  });
  const box = wrap(label, control, `${prop.description || ""} JSON (${prop.kinds.join(" or ")}).`,
    problems, prop.required);
  box.append(note);
  return box;
}

function rowsField(prop, value, ctx, problems) {
  const rows = Array.isArray(value) ? value : [];
  const fields = prop.items.fields.filter((f) => f.kinds.includes("string"));
  const table = el("table", { class: "rows" },
    el("thead", {}, el("tr", {}, fields.map((f) => el("th", { scope: "col" }, f.label)), el("td"))));
  const tbody = el("tbody");
  rows.forEach((row, i) => {
    const cells = fields.map((f) => {
      const input = el("input", { value: row && row[f.name] != null ? String(row[f.name]) : "",
        "aria-label": `${prop.label} ${i + 1} ${f.label}`, spellcheck: "false" });
      input.addEventListener("input", () => ctx.change((state) => {
        const list = state.properties[prop.name];
        list[i] = { ...list[i], [f.name]: input.value };
      }));
      return el("td", {}, input);
    });
    const remove = el("button", { type: "button", class: "row-op", "aria-label": `Remove ${prop.label} ${i + 1}`,
      onclick: () => ctx.change((state) => {
        state.properties[prop.name].splice(i, 1);
        if (!state.properties[prop.name].length) delete state.properties[prop.name];
      }, { structural: true }) }, "×");
    tbody.append(el("tr", {}, cells, el("td", {}, remove)));
  });
  table.append(tbody);
  const add = el("button", { type: "button", class: "row-op", onclick: () => ctx.change((state) => {
    state.properties = state.properties || {};
    const list = Array.isArray(state.properties[prop.name]) ? state.properties[prop.name] : [];
    list.push(Object.fromEntries(fields.map((f) => [f.name, ""])));
    state.properties[prop.name] = list;
  }, { structural: true }) }, `Add ${prop.items.label.toLowerCase()}`);
  return el("div", { class: "field" }, el("span", { class: "label" }, prop.label),
    prop.description ? el("small", {}, prop.description) : "", table, add,
    problems.map((p) => el("small", { class: "field-error", role: "alert" }, p.message)));
}

function transitions(ctx) {
  const { state } = ctx;
  const box = el("fieldset", {}, el("legend", {}, "Transitions"));
  for (const port of portsOf(state)) {
    const select = el("select", { name: `next-${port.event}-${port.index}` },
      el("option", { value: "" }, "(none: the execution ends)"),
      ctx.names.map((n) => el("option", { value: n }, n)));
    select.value = port.next;
    select.addEventListener("change", () => ctx.connect(port, select.value));
    const label = port.event === "match" ? `If: ${port.label}` : port.label;
    box.append(wrap(label, select, "", [], false));
    if (port.event === "match") box.append(conditions(ctx, port.index));
  }
  if (state.type === "split-based-on" && ctx.editable) {
    box.append(el("button", { type: "button", class: "row-op", onclick: () => ctx.change((s) => {
      const input = (s.properties && s.properties.input) || "";
      s.transitions = Array.isArray(s.transitions) ? s.transitions : [];
      s.transitions.push({ event: "match", conditions: [{ friendly_name: "If value equal_to ",
        arguments: [input], type: "equal_to", value: "" }] });
    }, { structural: true }) }, "Add a condition branch"));
  }
  return box;
}

function conditions(ctx, index) {
  const transition = ctx.state.transitions[index];
  const list = Array.isArray(transition.conditions) ? transition.conditions : [];
  const group = el("div", { class: "conditions" });
  list.forEach((condition, k) => {
    const edit = (key, input, convert = (v) => v) => input.addEventListener("input", () =>
      ctx.change((s) => {
        s.transitions[index].conditions[k][key] = convert(input.value);
      }));
    const op = el("select", { "aria-label": "Operator" }, SPECS.operators.map((o) => el("option", { value: o }, o)));
    op.value = condition.type || "equal_to";
    const value = el("input", { "aria-label": "Value", placeholder: "value", value: condition.value ?? "",
      spellcheck: "false" });
    const name = el("input", { "aria-label": "Label", placeholder: "label", value: condition.friendly_name ?? "" });
    const args = el("input", { "aria-label": "Argument", placeholder: "tested value", spellcheck: "false",
      value: Array.isArray(condition.arguments) ? condition.arguments.join(", ") : "" });
    op.addEventListener("change", () => ctx.change((s) => {
      s.transitions[index].conditions[k].type = op.value;
    }));
    edit("value", value);
    edit("friendly_name", name);
    edit("arguments", args, (v) => [v]);
    group.append(el("div", { class: "condition" }, op, value, name, args));
  });
  group.append(el("button", { type: "button", class: "row-op danger", onclick: () => ctx.change((s) => {
    s.transitions.splice(index, 1);
  }, { structural: true }) }, "Remove this branch"));
  return group;
}
