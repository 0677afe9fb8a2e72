"""Capture Payments (``capture-payments``): ``<Pay>``; its ``Result`` picks the event."""

from __future__ import annotations

from typing import Any

from ..io import CallResult
from ._voice import callback, no_call, outputs, twiml, verb
from .base import Next, Outcome, Widget, WidgetRun, key_values, register

ACTION = "success"
_RESULTS = {
    "success": "success",
    "too-many-failed-attempts": "maxFailedAttempts",
    "payment-connector-error": "providerError",
    "caller-interrupted-with-star": "payInterrupted",
    "caller-hung-up": "hangup",
    "validation-error": "validationError",
}


def _card_types(value: Any) -> str | None:
    if isinstance(value, list):
        return " ".join(str(v) for v in value) or None
    return str(value).strip() or None if value else None


@register
class CapturePayments(Widget):
    type = "capture-payments"

    def enter(self, run: WidgetRun) -> Outcome:
        props = run.props
        parameters = [
            verb("parameter", name=k, value=str(v))
            for k, v in key_values(run, props.get("parameters")).items()
        ]
        security = props.get("security_code")
        pay = verb(
            "pay",
            action=ACTION,
            children=parameters,
            payment_connector=run.prop("payment_connector").strip(),
            charge_amount=run.prop("payment_amount").strip(),
            currency=run.prop("currency").strip(),
            description=run.prop("description").strip(),
            payment_method=run.prop("payment_method").strip(),
            bank_account_type=run.prop("bank_account_type").strip(),
            token_type=run.prop("payment_token_type").strip(),
            valid_card_types=_card_types(props.get("valid_card_types")),
            security_code=None if security is None else str(security).lower(),
            postal_code=run.prop("postal_code").strip(),
            min_postal_code_length=run.number("min_postal_code_length"),
            timeout=run.number("timeout"),
            max_attempts=run.number("max_attempts"),
            language=run.prop("language").strip(),
        )
        return twiml([pay], [ACTION])

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        cb = callback(result)
        if cb is None:
            return no_call(run, result)
        params = cb.params
        event = _RESULTS.get(str(params.get("Result") or ""), "providerError")
        if params.get("CallStatus") == "completed":
            event = "hangup"
        return Next(event, outputs(params, event))
