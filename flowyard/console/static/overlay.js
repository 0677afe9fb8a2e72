// The coverage overlay's look on the canvas: which widgets never ran and which transitions
// were never taken, from a coverage file or from production traffic (see coverage.js).
// deco.coverage = { ran: Map name -> count, edges: Map portKey -> {count, note} }.

// A port's identity in a coverage file: a split's conditions by their index among its matches.
export const portKey = (name, port) => `${name}|${port.event}|${port.match ?? ""}`;

// True when the overlay knows the widget and it never ran (a widget added since is not marked).
export function neverRan(cov, name) {
  return !!cov && cov.ran.has(name) && !cov.ran.get(name);
}

// {count, cls, label, title} for a port, or null when the overlay does not count it.
export function edgeState(cov, name, port) {
  const found = cov && cov.edges.get(portKey(name, port));
  if (!found) return null;
  const { count, note } = found;
  return {
    count,
    cls: count ? " covered" : " untaken",
    label: `${count}×`,
    title: (count ? `taken ${count}×` : "never taken") + (note ? ` (${note})` : ""),
  };
}
