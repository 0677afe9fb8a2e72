// The JSON tab's wiring: loads the CodeMirror editor on first use (it is large and most
// visits never open the tab), and keeps it in step with the definition and its problems.
import { debounce } from "./common.js";

// host/error: the elements; definition() and report() the page's current ones;
// apply(parsed) takes a definition the user typed.
export function jsonTab({ host, error, definition, report, apply }) {
  let editor = null;
  let loading = null;
  const input = debounce((text) => {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      error.textContent = `Not valid JSON: ${e.message}`;
      return;
    }
    error.textContent = "";
    apply(parsed);
  }, 400);
  const text = () => JSON.stringify(definition(), null, 2);

  return {
    async open() {
      if (!loading) {
        loading = import("./jsonpane.js").then((m) => {
          editor = m.mountJsonEditor(host, { onChange: input });
          editor.setText(text());
          editor.setProblems(report());
          host.dataset.ready = "true";
        });
      }
      await loading;
    },
    // The definition changed elsewhere (canvas, inspector, undo): show it.
    sync() {
      if (editor) editor.setText(text());
    },
    problems() {
      if (editor) editor.setProblems(report());
    },
  };
}
