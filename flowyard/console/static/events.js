// Event Streams page: sinks with their delivery status, subscriptions with their types.
import { api, clear, el, errorText, fmtDate, toast } from "./common.js";

const sinks = document.querySelector("#sinks tbody");
const subs = document.querySelector("#subscriptions tbody");

function sinkRow(sink) {
  return el("tr", { dataset: { sid: sink.sid } },
    el("td", {}, el("strong", {}, sink.description), el("br"),
      el("code", { class: "muted" }, sink.sid)),
    el("td", { "data-label": "Status" }, el("span", { class: `badge ${sink.status}` }, sink.status)),
    el("td", { "data-label": "Destination" }, sink.destination,
      sink.batch_events ? el("span", { class: "muted" }, " (batched)") : null),
    el("td", { "data-label": "Last delivery" }, fmtDate(sink.last_delivery) || "never"),
    el("td", { class: "num", "data-label": "Failures in a row" }, sink.failures),
    el("td", { class: "num", "data-label": "Waiting" }, sink.waiting,
      sink.oldest_waiting ? el("span", { class: "muted" }, ` since ${fmtDate(sink.oldest_waiting)}`) : null),
    el("td", { "data-label": "Last error" }, sink.last_error || "",
      sink.retry_at && sink.waiting ? el("div", { class: "muted" }, `next try ${fmtDate(sink.retry_at)}`) : null));
}

function subRow(sub) {
  return el("tr", { dataset: { sid: sub.sid } },
    el("td", {}, el("strong", {}, sub.description), el("br"),
      el("code", { class: "muted" }, sub.sid)),
    el("td", { "data-label": "Sink" }, el("code", {}, sub.sink_sid)),
    el("td", { "data-label": "Event types" },
      el("ul", { class: "types" }, sub.types.map((t) => el("li", {}, el("code", {}, t))))),
    el("td", { "data-label": "Created" }, fmtDate(sub.date_created)));
}

async function load() {
  let data;
  try {
    data = await api("GET", "/event-streams");
  } catch (error) {
    toast(errorText(error), "error");
    return;
  }
  clear(sinks).append(...data.sinks.map(sinkRow));
  if (!data.sinks.length) {
    sinks.append(el("tr", {}, el("td", { colspan: 7, class: "muted" },
      "No sink yet. Create one with client.events.v1.sinks.create(…).")));
  }
  clear(subs).append(...data.subscriptions.map(subRow));
  if (!data.subscriptions.length) {
    subs.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No subscription yet.")));
  }
}

load();
setInterval(load, 5000); // delivery status changes on its own: keep it current
