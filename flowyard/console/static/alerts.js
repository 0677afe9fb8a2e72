// Debugger alerts as the pages show them: a box with the code (linked to Twilio's error page)
// and the message, and the flow page's "Recent alerts" list. Alert text holds user data (URLs,
// Liquid), so it only ever goes in as text: el() never parses HTML.
import { api, el, errorText, flowSid, fmtDate } from "./common.js";

export const level = (alert) => (alert.log_level === "warning" ? "warning" : "error");

// "Error 11200" linked to Twilio's page for the code, in a new tab that cannot reach back.
export function codeLink(alert) {
  return el("a", { class: "err-code", href: alert.more_info, target: "_blank",
    rel: "noopener noreferrer", title: `Twilio's page for error ${alert.error_code}` },
  `${level(alert) === "warning" ? "Warning" : "Error"} ${alert.error_code}`);
}

// One alert: code, widget, message, and the request it made if it made one; in a list of the
// flow's alerts also when it happened and a link to its execution.
export function alertBox(alert, { tag = "div", listed = false } = {}) {
  const head = el("div", { class: "alert-head" }, codeLink(alert),
    alert.widget ? el("span", { class: "alert-widget" }, `at ${alert.widget}`) : null,
    listed ? el("time", { datetime: alert.date_generated }, fmtDate(alert.date_generated)) : null);
  const link = listed && alert.execution_sid
    ? el("small", {}, "Execution ", el("a", { class: "sid",
      href: `/console/flows/${flowSid}/executions/${alert.execution_sid}` }, alert.execution_sid))
    : null;
  return el(tag, { class: `alert-box ${level(alert)}`, role: "note", dataset: { alert: alert.sid } },
    head, el("p", { class: "alert-msg" }, alert.message),
    alert.request_url ? el("code", { class: "alert-url" }, alert.request_url) : null, link);
}

// The flow page's side tab: the flow's newest alerts, each linking to its execution.
export async function renderRecentAlerts(body) {
  body.append(el("h2", {}, "Recent alerts"));
  let data;
  try {
    data = await api("GET", `/flows/${flowSid}/alerts`);
  } catch (error) {
    body.append(el("p", { class: "error" }, errorText(error)));
    return;
  }
  if (!data.alerts.length) {
    body.append(el("p", { class: "muted empty-alerts" }, "No alerts"));
    return;
  }
  body.append(el("ul", { class: "alerts-list" },
    data.alerts.map((alert) => alertBox(alert, { tag: "li", listed: true }))));
}
