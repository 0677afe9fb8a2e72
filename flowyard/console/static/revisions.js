// Revisions page: list with commit messages, widget-level diff, restore, test users.
import { api, clear, el, errorText, flowSid, fmtDate, toast } from "./common.js";

const tbody = document.querySelector("#revisions tbody");
const compare = document.getElementById("compare");
const diffBox = document.getElementById("diff");
const usersForm = document.getElementById("test-users");

async function loadRevisions() {
  const revisions = [];
  let after = "";
  do {
    const page = await api("GET", `/flows/${flowSid}/revisions` + (after ? `?after=${after}` : ""));
    revisions.push(...page.revisions);
    after = page.next || "";
  } while (after);
  return revisions;
}

function restoreButton(rev, latest) {
  if (rev.revision === latest) return el("span", { class: "muted" }, "latest");
  return el("button", {
    type: "button", "aria-label": `Restore revision ${rev.revision}`,
    onclick: async () => {
      if (!confirm(`Restore revision ${rev.revision} as a new draft revision?`)) return;
      try {
        const flow = await api("POST", `/flows/${flowSid}/revisions/${rev.revision}/restore`, { status: "draft" });
        toast(`Revision ${rev.revision} restored as revision ${flow.revision}`);
        await render();
      } catch (error) {
        toast(errorText(error), "error");
      }
    },
  }, "Restore");
}

async function render() {
  let revisions;
  try {
    revisions = await loadRevisions();
  } catch (error) {
    toast(errorText(error), "error");
    return;
  }
  const latest = revisions.length ? revisions[0].revision : 0;
  clear(tbody);
  for (const rev of revisions) {
    tbody.append(el("tr", { dataset: { revision: rev.revision } },
      el("td", { class: "num", "data-label": "Revision" }, rev.revision),
      el("td", { "data-label": "Status" }, el("span", { class: `badge ${rev.status}` }, rev.status)),
      el("td", { "data-label": "Message" },
        rev.commit_message || el("span", { class: "muted" }, "(no message)")),
      el("td", { "data-label": "Date" }, fmtDate(rev.date_created)),
      el("td", {}, restoreButton(rev, latest))));
  }
  for (const [select, pick] of [[compare.elements.from, 1], [compare.elements.to, 0]]) {
    clear(select).append(...revisions.map((r) =>
      el("option", { value: r.revision }, `${r.revision}${r.commit_message ? ` — ${r.commit_message.slice(0, 40)}` : ""}`)));
    select.value = String((revisions[pick] || revisions[0] || {}).revision || "");
  }
  if (revisions.length > 1) showDiff(compare.elements.from.value, compare.elements.to.value);
  else clear(diffBox).append(el("p", { class: "muted" }, "Only one revision so far."));
}

function show(value) {
  if (value === null || value === undefined) return "∅";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 240 ? text.slice(0, 239) + "…" : text;
}

function change(label, kind, old, now) {
  return el("li", {}, el("code", {}, label), " ",
    kind === "added" ? el("ins", {}, show(now))
      : kind === "removed" ? el("del", {}, show(old))
        : [el("del", {}, show(old)), " → ", el("ins", {}, show(now))]);
}

function widgetBlock(w) {
  const title = w.status === "renamed" ? `${w.old_name} → ${w.name}` : w.name;
  const items = [
    w.old_type ? el("li", {}, "type ", el("del", {}, w.old_type), " → ", el("ins", {}, w.type)) : null,
    ...w.properties.map((p) => change(`properties${p.path}`, p.kind, p.old, p.new)),
    ...w.transitions.map((t) => el("li", {}, el("code", {}, `on ${t.event}${t.index ? ` #${t.index + 1}` : ""}`), " ",
      t.kind === "added" ? el("ins", {}, `→ ${t.new_next || "(end)"}`)
        : t.kind === "removed" ? el("del", {}, `→ ${t.old_next || "(end)"}`)
          : [el("del", {}, t.old_next || "(end)"), " → ", el("ins", {}, t.new_next || "(end)")],
      t.changes.length ? el("ul", {}, t.changes.map((c) => change(c.path.slice(1), c.kind, c.old, c.new))) : "")),
    ...w.other.map((c) => change(c.path.slice(1), c.kind, c.old, c.new)),
  ].filter(Boolean);
  return el("article", { class: `widget ${w.status}`, dataset: { widget: w.name } },
    el("h3", {}, title, " ", el("span", { class: "badge" }, w.status), " ",
      el("span", { class: "muted" }, w.type || "")),
    items.length ? el("ul", {}, items) : "");
}

async function showDiff(from, to) {
  clear(diffBox).append(el("p", { class: "muted" }, "Comparing…"));
  try {
    const diff = await api("GET", `/flows/${flowSid}/diff?from=${from}&to=${to}`);
    const s = diff.summary;
    clear(diffBox).append(el("h2", {}, `Revision ${diff.from} → ${diff.to}`),
      el("p", { class: "muted" }, `${s.added} added · ${s.removed} removed · ${s.changed} changed · ` +
        `${s.renamed} renamed (canvas positions ignored)`));
    const list = el("div", { class: "diff" });
    if (diff.top_level.length) {
      list.append(el("article", { class: "widget changed" }, el("h3", {}, "Flow settings"),
        el("ul", {}, diff.top_level.map((c) => change(c.path.slice(1), c.kind, c.old, c.new)))));
    }
    list.append(...diff.widgets.map(widgetBlock));
    if (!diff.widgets.length && !diff.top_level.length) {
      list.append(el("p", {}, "No difference apart from canvas positions."));
    }
    diffBox.append(list);
  } catch (error) {
    clear(diffBox).append(el("p", { class: "error" }, errorText(error)));
  }
}

compare.addEventListener("submit", (event) => {
  event.preventDefault();
  showDiff(compare.elements.from.value, compare.elements.to.value);
});

async function loadUsers() {
  try {
    const data = await api("GET", `/flows/${flowSid}/test-users`);
    usersForm.elements.users.value = data.test_users.join("\n");
  } catch (error) {
    toast(errorText(error), "error");
  }
}

usersForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const users = usersForm.elements.users.value.split("\n").map((s) => s.trim()).filter(Boolean);
  try {
    const data = await api("PUT", `/flows/${flowSid}/test-users`, { test_users: users });
    usersForm.elements.users.value = data.test_users.join("\n");
    toast(`Saved ${data.test_users.length} test users`);
  } catch (error) {
    toast(errorText(error), "error");
  }
});

render();
loadUsers();
