// Edits of a flow definition, as plain functions that mutate it: the editor wraps each in
// an undo snapshot, a redraw and a re-validation.
import SPECS from "./specs.js";

export function find(def, name) {
  return def.states.find((s) => s && s.name === name);
}

export function names(def) {
  return (Array.isArray(def.states) ? def.states : []).filter((s) => s && s.name).map((s) => s.name);
}

function eachTransition(def, fn) {
  for (const s of def.states) {
    for (const t of (s && Array.isArray(s.transitions) ? s.transitions : [])) if (t) fn(t);
  }
}

// port: {event, index} from portsOf(); index -1 means no transition for that event yet.
export function connect(def, from, port, to) {
  const state = find(def, from);
  state.transitions = Array.isArray(state.transitions) ? state.transitions : [];
  if (port.index >= 0 && state.transitions[port.index]) {
    if (to) state.transitions[port.index].next = to;
    else delete state.transitions[port.index].next;
  } else if (to) {
    state.transitions.push({ event: port.event, next: to });
  }
}

// Why a widget cannot take a name, or null when it can.
export function renameError(def, oldName, newName) {
  if (!newName) return "A widget needs a name.";
  if (newName !== oldName && names(def).includes(newName)) {
    return `Another widget is already called ${newName}.`;
  }
  return null;
}

// Renames a widget; transitions that led to it and initial_state follow.
export function rename(def, oldName, newName) {
  if (renameError(def, oldName, newName) || oldName === newName) return;
  find(def, oldName).name = newName;
  eachTransition(def, (t) => {
    if (t.next === oldName) t.next = newName;
  });
  if (def.initial_state === oldName) def.initial_state = newName;
}

export function canRemove(def, name) {
  const state = find(def, name);
  return Boolean(state) && state.type !== "trigger" && def.initial_state !== name;
}

// Removes a widget and every transition that led to it.
export function remove(def, name) {
  const state = find(def, name);
  def.states = def.states.filter((s) => s !== state);
  eachTransition(def, (t) => {
    if (t.next === name) delete t.next;
  });
}

// A new widget of a type, named like Studio names them (send_message_1), with the required
// properties filled from their defaults and one transition per event.
export function add(def, type, x, y) {
  const spec = SPECS.widgets[type];
  const base = type.replace(/-/g, "_");
  const taken = new Set(names(def));
  let n = 1;
  while (taken.has(`${base}_${n}`)) n += 1;
  const properties = { offset: { x: Math.round(x), y: Math.round(y) } };
  for (const prop of spec.properties) {
    if (prop.required) properties[prop.name] = prop.default !== undefined ? prop.default : "";
  }
  const transitions = spec.events.filter((e) => e !== "match").map((event) => ({ event }));
  const state = { name: `${base}_${n}`, type, transitions, properties };
  def.states.push(state);
  return state;
}
