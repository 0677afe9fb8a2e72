// The Messages and Calls pages' shared list: To/From filters kept in the URL, newest first,
// "Load more" pages, and a link to the execution behind each item.
import { api, clear, el, errorText, toast } from "./common.js";

const FILTERS = ["to", "from"];

export function executionLink(item) {
  if (!item.execution_sid) return "";
  if (!item.flow_sid) return el("code", { class: "muted", title: "Execution deleted" }, item.execution_sid);
  return el("a", { href: `/console/flows/${item.flow_sid}/executions/${item.execution_sid}` },
    item.execution_sid);
}

// path: "/messages"; key: the list's name in the answer; row(item) -> <tr>; empty: text.
export function mountList({ path, key, row, empty, columns }) {
  const form = document.getElementById("filters");
  const tbody = document.querySelector(`#${key} tbody`);
  const more = document.getElementById("more");
  let next = "";

  const query = () => {
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    if (next) params.set("after", next);
    return params.toString();
  };

  const load = async (append) => {
    if (!append) next = "";
    let page;
    try {
      page = await api("GET", `${path}?${query()}`);
    } catch (error) {
      toast(errorText(error), "error");
      return;
    }
    if (!append) clear(tbody);
    tbody.append(...page[key].map(row));
    if (!tbody.children.length) {
      tbody.append(el("tr", {}, el("td", { colspan: columns, class: "muted" }, empty)));
    }
    next = page.next ? String(page.next) : "";
    more.hidden = !next;
    document.body.dataset.ready = "true";
  };

  const params = new URLSearchParams(location.search);
  for (const name of FILTERS) form.elements[name].value = params.get(name) || "";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    next = "";
    const filters = query();
    history.replaceState(null, "", filters ? `?${filters}` : location.pathname);
    load(false);
  });
  more.addEventListener("click", () => load(true));
  load(false);
}
