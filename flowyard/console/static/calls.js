// Calls page: the calls this account's flows answered or placed on the local platform.
import { el, fmtDate } from "./common.js";
import { executionLink, mountList } from "./outboxlist.js";

function row(c) {
  return el("tr", { dataset: { sid: c.sid } },
    el("td", { "data-label": "Date" }, fmtDate(c.date_created)),
    el("td", { "data-label": "Direction" }, c.direction),
    el("td", { "data-label": "From" }, el("code", {}, c.from)),
    el("td", { "data-label": "To" }, el("code", {}, c.to)),
    el("td", { "data-label": "Status" }, el("span", { class: `badge ${c.status}` }, c.status)),
    el("td", { class: "num", "data-label": "Duration" }, c.duration === null ? "" : `${c.duration} s`),
    el("td", { "data-label": "Execution" }, executionLink(c)));
}

mountList({
  path: "/calls", key: "calls", row, columns: 7,
  empty: "No call matches. Calls appear here as flows answer and place them.",
});
