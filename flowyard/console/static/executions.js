// Executions page: list with status, date and contact filters, newest first, paged.
import { api, clear, el, errorText, flowSid, fmtDate, toast } from "./common.js";

const form = document.getElementById("filters");
const tbody = document.querySelector("#executions tbody");
const more = document.getElementById("more");
let next = "";
const FILTERS = ["status", "from", "to", "contact"];

function query() {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    if (form.elements[name].value.trim()) params.set(name, form.elements[name].value.trim());
  }
  if (next) params.set("after", next);
  return params.toString();
}

async function load(append) {
  if (!append) next = "";
  let page;
  try {
    page = await api("GET", `/flows/${flowSid}/executions?${query()}`);
  } catch (error) {
    toast(errorText(error), "error");
    return;
  }
  if (!append) clear(tbody);
  for (const ex of page.executions) {
    tbody.append(el("tr", { dataset: { sid: ex.sid } },
      el("td", {}, el("a", { href: `/console/flows/${flowSid}/executions/${ex.sid}` }, ex.sid)),
      el("td", { "data-label": "Contact" }, ex.contact),
      el("td", { "data-label": "Status" }, el("span", { class: `badge ${ex.status}` }, ex.status)),
      el("td", { "data-label": "Started" }, fmtDate(ex.date_created)),
      el("td", { "data-label": "Last change" }, fmtDate(ex.date_updated)),
      el("td", { class: "num", "data-label": "Revision" }, ex.flow_revision)));
  }
  if (!tbody.children.length) {
    tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted" },
      "No execution matches. Start one from the simulator on the canvas page.")));
  }
  next = page.next || "";
  more.hidden = !next;
}

// Filters live in the URL too, so a filtered list can be bookmarked or shared.
function fromUrl() {
  const params = new URLSearchParams(location.search);
  for (const name of FILTERS) form.elements[name].value = params.get(name) || "";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  next = "";
  history.replaceState(null, "", `?${query()}`);
  load(false);
});
more.addEventListener("click", () => load(true));
fromUrl();
load(false);
