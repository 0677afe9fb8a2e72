// The JSON tab: a CodeMirror 6 editor (vendored, see vendor/README.md) with JSON highlighting
// and the validator's problems as lint markers at their property paths.
import {
  EditorState, Transaction, EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection,
  defaultKeymap, history, historyKeymap, indentWithTab, bracketMatching, foldGutter, foldKeymap,
  syntaxHighlighting, defaultHighlightStyle, indentOnInput, json, lintGutter, setDiagnostics,
  searchKeymap, highlightSelectionMatches,
} from "./vendor/codemirror.js";
import { locate, valueRanges } from "./jsonpaths.js";

const THEME = EditorView.theme({
  "&": { flex: "1", minWidth: "0", height: "100%", background: "#fff" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", fontSize: "12.5px" },
});

// host: the element to fill; onChange(text) runs on the user's edits only.
export function mountJsonEditor(host, { onChange }) {
  let applying = false;
  // In a shadow root CodeMirror styles itself with constructed style sheets, which the
  // console's Content-Security-Policy (style-src 'self', no inline <style>) allows.
  const root = host.attachShadow({ mode: "open" });
  const view = new EditorView({
    root,
    parent: root,
    state: EditorState.create({
      doc: "",
      extensions: [
        THEME, lineNumbers(), foldGutter(), lintGutter(), history(), drawSelection(), indentOnInput(),
        bracketMatching(), highlightActiveLine(), highlightSelectionMatches(), json(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([...defaultKeymap, ...historyKeymap, ...foldKeymap, ...searchKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ "aria-label": "Flow definition JSON" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !applying) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  // Tests and scripts read the text as they read a textarea's.
  Object.defineProperty(host, "value", { get: () => view.state.doc.toString() });

  return {
    view,
    get text() {
      return view.state.doc.toString();
    },
    setText(text) {
      if (text === view.state.doc.toString()) return;
      applying = true;
      try {
        // Not the user's typing: Ctrl+Z in the editor must not undo it (the page's own undo
        // covers canvas edits).
        view.dispatch({
          changes: { from: 0, to: view.state.doc.length, insert: text },
          annotations: Transaction.addToHistory.of(false),
        });
      } finally {
        applying = false;
      }
    },
    // report: {errors, warnings}, each item {message, property_path}.
    setProblems(report) {
      const ranges = valueRanges(view.state.doc.toString());
      const diagnostics = [];
      if (ranges) {
        const add = (severity, item) => {
          const at = locate(ranges, item.property_path);
          if (at) diagnostics.push({ ...at, severity, message: item.message, source: item.property_path });
        };
        (report.errors || []).forEach((e) => add("error", e));
        (report.warnings || []).forEach((w) => add("warning", w));
      }
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
  };
}
