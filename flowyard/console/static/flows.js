// The flows page: list (searched and sorted here), create, import a Studio export, export, delete.
import { api, clear, el, errorText, fmtDate, toast } from "./common.js";

const tbody = document.querySelector("#flows tbody");
const importErrors = document.getElementById("import-errors");
const filter = document.getElementById("flow-filter");
let flows = [];

function row(flow) {
  const href = `/console/flows/${flow.sid}`;
  const remove = async () => {
    if (!confirm(`Delete the flow "${flow.friendly_name}" and all its executions?`)) return;
    try {
      await api("DELETE", `/flows/${flow.sid}`);
      toast(`Deleted ${flow.friendly_name}`);
      load();
    } catch (error) {
      toast(errorText(error), "error");
    }
  };
  return el("tr", { dataset: { sid: flow.sid } },
    el("td", {}, el("a", { href }, flow.friendly_name), el("div", { class: "sid" }, flow.sid)),
    el("td", { "data-label": "Status" }, el("span", { class: `badge ${flow.status}` }, flow.status)),
    el("td", { class: "num", "data-label": "Revision" }, flow.revision),
    el("td", { "data-label": "Last change" },
      el("time", { datetime: flow.date_updated }, fmtDate(flow.date_updated))),
    el("td", { class: "num", "data-label": "Active executions" },
      el("a", { href: `${href}/executions?status=active`, "aria-label": `Active executions of ${flow.friendly_name}` },
        flow.active_executions)),
    el("td", { class: "row-actions" },
      el("a", { href: `/console/api/flows/${flow.sid}/export`, download: "", class: "button" }, "Export"),
      el("button", { class: "danger", onclick: remove, "aria-label": `Delete ${flow.friendly_name}` },
        "Delete")));
}

async function load() {
  try {
    const all = [];
    let after = "";
    do {
      const page = await api("GET", "/flows" + (after ? `?after=${after}` : ""));
      all.push(...page.flows);
      after = page.next || "";
    } while (after);
    flows = all;
    render();
  } catch (error) {
    toast(errorText(error), "error");
  }
}

// Search by friendly name or SID (any case); sort by last change (newest first) or name.
function render() {
  const q = filter.elements.q.value.trim().toLowerCase();
  const byName = filter.elements.sort.value === "name";
  const shown = flows.filter((f) => !q || f.friendly_name.toLowerCase().includes(q) ||
    f.sid.toLowerCase().includes(q));
  shown.sort(byName
    ? (a, b) => a.friendly_name.localeCompare(b.friendly_name, undefined, { sensitivity: "base" }) ||
      a.sid.localeCompare(b.sid)
    : (a, b) => (b.date_updated || "").localeCompare(a.date_updated || "") || a.sid.localeCompare(b.sid));
  clear(tbody);
  if (!shown.length) {
    tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, flows.length
      ? `No flow matches “${filter.elements.q.value.trim()}”.`
      : "No flows yet: create one, or import a JSON file exported from Twilio Studio.")));
  }
  for (const flow of shown) tbody.append(row(flow));
}

filter.addEventListener("input", render);
filter.addEventListener("submit", (event) => event.preventDefault());

function showProblems(title, errors) {
  clear(importErrors);
  importErrors.hidden = false;
  importErrors.append(el("h2", {}, title),
    el("ul", {}, errors.map((e) => el("li", {}, el("code", {}, e.property_path), " ", e.message))));
}

document.getElementById("new-flow").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = event.target.elements.name.value.trim();
  if (!name) return;
  try {
    const flow = await api("POST", "/flows", { friendly_name: name, status: "draft" });
    location.assign(`/console/flows/${flow.sid}`);
  } catch (error) {
    toast(errorText(error), "error");
  }
});

// A Studio export is the definition itself; a saved Flow resource wraps it in "definition".
function unwrap(data, fileName) {
  if (data && !data.states && data.definition && typeof data.definition === "object") {
    return { definition: data.definition, name: data.friendly_name };
  }
  const base = fileName.replace(/\.json$/i, "");
  return { definition: data, name: base };
}

document.getElementById("import-flow").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const file = form.elements.file.files[0];
  if (!file) return;
  importErrors.hidden = true;
  let parsed;
  try {
    parsed = JSON.parse(await file.text());
  } catch (error) {
    showProblems(`${file.name} is not JSON`, [{ property_path: "#", message: String(error.message) }]);
    return;
  }
  const { definition, name } = unwrap(parsed, file.name);
  try {
    const flow = await api("POST", "/flows", {
      friendly_name: name, definition, status: form.elements.status.value,
      commit_message: `Imported from ${file.name}`,
    });
    toast(`Imported ${flow.friendly_name}`);
    form.reset();
    location.assign(`/console/flows/${flow.sid}`);
  } catch (error) {
    const errors = error.data && error.data.details && error.data.details.errors;
    if (errors) showProblems(`${file.name} was not imported: ${error.data.message}`, errors);
    else toast(errorText(error), "error");
  }
});

load();
