// Messages page: the local platform's messages of this account (sent and received).
import { el, fmtDate } from "./common.js";
import { executionLink, mountList } from "./outboxlist.js";

function row(m) {
  // Bodies are text nodes (el never parses HTML): a body may hold anything a contact typed.
  return el("tr", { dataset: { sid: m.sid } },
    el("td", { "data-label": "Date" }, fmtDate(m.date_created)),
    el("td", { "data-label": "Direction" }, m.direction),
    el("td", { "data-label": "From" }, el("code", {}, m.from)),
    el("td", { "data-label": "To" }, el("code", {}, m.to)),
    el("td", { class: "body-text", "data-label": "Body" }, m.body),
    el("td", { "data-label": "Status" }, el("span", { class: `badge ${m.status}` }, m.status),
      m.error_code ? el("span", { class: "muted" }, ` ${m.error_code}`) : null),
    el("td", { "data-label": "Execution" }, executionLink(m)));
}

mountList({
  path: "/messages", key: "messages", row, columns: 7,
  empty: "No message matches. Messages appear here as flows send and receive them.",
});
