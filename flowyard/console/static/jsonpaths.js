// Where each value of a JSON text is: maps the validator's property paths
// ("#/states/3/properties/timeout", or "states[3].properties.timeout") to text positions.

// "#/states/3/x" or "states[3].x" -> ["states", "3", "x"]
export function pathParts(path) {
  const raw = String(path || "").replace(/^#/, "");
  if (raw.startsWith("/")) {
    return raw.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  }
  return raw.replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean);
}

const WS = /\s/;

// Every value's range, keyed by its parts joined with "\u0000"; null when the text is not
// JSON. Each entry: {from, to} of the value, and keyFrom/keyTo of the member's key if any.
export function valueRanges(text) {
  const ranges = new Map();
  let pos = 0;
  const skip = () => { while (pos < text.length && WS.test(text[pos])) pos++; };
  const fail = () => { throw new SyntaxError(`unexpected input at ${pos}`); };
  const string = () => {
    if (text[pos] !== '"') fail();
    const start = ++pos;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === "\\" ? 2 : 1;
    if (pos >= text.length) fail();
    return JSON.parse(text.slice(start - 1, ++pos));
  };
  const value = (parts, keyFrom, keyTo) => {
    skip();
    const from = pos;
    const c = text[pos];
    if (c === "{" || c === "[") {
      pos++;
      let index = 0;
      skip();
      const close = c === "{" ? "}" : "]";
      while (text[pos] !== close) {
        if (index > 0) { if (text[pos] !== ",") fail(); pos++; skip(); }
        if (c === "{") {
          const keyAt = pos;
          const key = string();
          const keyEnd = pos;
          skip();
          if (text[pos] !== ":") fail();
          pos++;
          value([...parts, key], keyAt, keyEnd);
        } else value([...parts, String(index)]);
        index++;
        skip();
        if (pos >= text.length) fail();
      }
      pos++;
    } else if (c === '"') string();
    else {
      while (pos < text.length && !/[\s,\]}]/.test(text[pos])) pos++;
      if (pos === from) fail();
    }
    ranges.set(parts.join("\u0000"), { from, to: pos, keyFrom, keyTo, container: c === "{" || c === "[" });
  };
  try {
    value([]);
    skip();
    if (pos !== text.length) fail();
  } catch {
    return null;
  }
  return ranges;
}

// The range to mark for a path: the member itself, or its nearest ancestor that exists
// (a missing required property marks the object that lacks it). Containers mark their key
// (or their first character) so a whole widget is not underlined.
export function locate(ranges, path) {
  const parts = pathParts(path);
  for (let n = parts.length; n >= 0; n--) {
    const range = ranges.get(parts.slice(0, n).join("\u0000"));
    if (!range) continue;
    const from = range.keyFrom === undefined ? range.from : range.keyFrom;
    if (!range.container) return { from, to: range.to };
    return { from, to: range.keyTo === undefined ? from + 1 : range.keyTo };
  }
  return null;
}
