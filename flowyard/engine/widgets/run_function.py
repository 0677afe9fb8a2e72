"""Run Function (``run-function``): POST the parameters as a form; ``success`` on 2xx,
else ``fail`` (note: not ``failed``). Same output shape as Make HTTP Request, plus
``headers`` holding only ``x-twilio-function-concurrency`` when the Function sent it.

On a call, a Function that answers TwiML has it played; a ``<Redirect>`` after it brings the
call back to take ``success``.
"""

from __future__ import annotations

from ..io import CallResult
from ._http import HTTP_WIDGET_ERROR, base_request, pairs, response_outputs, valid_url
from ._voice import back, callback, on_call, twiml
from .base import Call, Next, Outcome, Widget, WidgetRun, register

FUNCTION_FAILED = 81010
_CONCURRENCY = "x-twilio-function-concurrency"


@register
class RunFunction(Widget):
    type = "run-function"
    failure_event = "fail"

    def enter(self, run: WidgetRun) -> Outcome:
        url = run.prop("url").strip()
        if not valid_url(url):
            return Next(
                "fail",
                {},
                error=run.error(
                    "invalid_url", f"Function URL {url!r} is not a valid URL", HTTP_WIDGET_ERROR
                ),
            )
        request = base_request(run, "POST", url)
        request["form"] = pairs(run, run.props.get("parameters"))
        request["content_type"] = "application/x-www-form-urlencoded"
        for key in ("service_sid", "environment_sid", "function_sid"):
            if run.props.get(key):
                request[key] = str(run.props[key])
        return Call("function", request)

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is not None:  # the call came back from the Function's TwiML
            return Next("success", cb.request.get("outputs") or {})
        ok, outputs, problem = response_outputs(run, result)
        headers = (result.data or {}).get("headers") or {}
        if outputs and isinstance(headers, dict):
            lowered = {str(k).lower(): v for k, v in headers.items()}
            if _CONCURRENCY in lowered:
                outputs["headers"] = {_CONCURRENCY: lowered[_CONCURRENCY]}
        if ok and on_call(run) and _is_twiml(outputs):
            raw = {"verb": "raw", "xml": outputs["body"]}
            return twiml([raw, back("success")], ["success"], outputs=outputs)
        if ok:
            return Next("success", outputs)
        return Next(
            "fail", outputs, error=run.error("function_failed", problem or "", FUNCTION_FAILED)
        )


def _is_twiml(outputs: dict) -> bool:
    body = outputs.get("body")
    return isinstance(body, str) and body.lstrip().startswith(("<Response", "<?xml"))
