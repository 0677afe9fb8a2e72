// The parts of CodeMirror 6 the console's JSON tab (flowyard/console/static/jsonpane.js)
// uses, bundled into one ES module.
export { EditorState, Transaction } from "@codemirror/state";
export { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection } from "@codemirror/view";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export {
  bracketMatching, foldGutter, foldKeymap, syntaxHighlighting, defaultHighlightStyle, indentOnInput,
} from "@codemirror/language";
export { json } from "@codemirror/lang-json";
export { lintGutter, setDiagnostics } from "@codemirror/lint";
export { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
