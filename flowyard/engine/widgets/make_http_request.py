"""Make HTTP Request (``make-http-request``): ``success`` on 2xx, else ``failed``.

Request shape (partly inferred, studio-runtime.md 2.6): GET sends the parameters as the query
string; POST with a form content type sends them as form fields (or the ``body`` text when
there are none); POST with a JSON content type sends the rendered ``body`` and the parameters
in the query string. A URL that does not render to http(s) fails without a call (81014).
"""

from __future__ import annotations

from ..io import CallResult
from ._http import (
    HTTP_FAILED,
    HTTP_WIDGET_ERROR,
    base_request,
    pairs,
    response_outputs,
    valid_url,
)
from .base import Call, Next, Outcome, Widget, WidgetRun, register

FORM = "application/x-www-form-urlencoded"


@register
class MakeHttpRequest(Widget):
    type = "make-http-request"
    failure_event = "failed"

    def enter(self, run: WidgetRun) -> Outcome:
        url = run.prop("url").strip()
        if not valid_url(url):
            return Next(
                "failed",
                {},
                error=run.error(
                    "invalid_url", f"URL {url!r} is not a valid http(s) URL", HTTP_WIDGET_ERROR
                ),
            )
        method = (run.prop("method").strip() or "GET").upper()
        content_type = run.prop("content_type").strip() or FORM
        parameters = pairs(run, run.props.get("parameters"))
        request = base_request(run, method, url)
        request["content_type"] = content_type
        request["twilio_auth"] = bool(run.props.get("add_twilio_auth"))
        if method == "GET":
            request["query"] = parameters
        elif "json" in content_type.lower():
            request["content"] = run.prop("body")
            request["query"] = parameters
        elif parameters or not run.props.get("body"):
            request["form"] = parameters
        else:
            request["content"] = run.prop("body")
        return Call("http", request)

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        ok, outputs, problem = response_outputs(run, result)
        if ok:
            return Next("success", outputs)
        return Next("failed", outputs, error=run.error("http_failed", problem or "", HTTP_FAILED))
