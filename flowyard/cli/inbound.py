"""``flowyard inbound sms|call``: talk to a running server as Twilio would, with webhooks
signed by the account's auth token, to try a flow end to end without a phone."""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from flowyard.cli.errors import UserError
from flowyard.cli.transfer import AccountSid, AuthToken

inbound_app = typer.Typer(
    help="Send a flow an inbound SMS or call, signed as Twilio signs them.",
    no_args_is_help=True,
)

FlowSid = Annotated[str, typer.Argument(help="The flow (FW…) whose webhook gets the request.")]
Url = Annotated[
    str,
    typer.Option("--url", envvar="FLOWYARD_URL", help="The Flowyard server."),
]
PublicUrl = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        envvar="FLOWYARD_PUBLIC_URL",
        help="The base the server checks signatures against, when it is not --url.",
        show_default=False,
    ),
]
From = Annotated[str, typer.Option("--from", help="The contact's number (or address).")]
To = Annotated[str, typer.Option("--to", help="The flow's number.")]
DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TO = "+15005550006"
QUIET = 0.7  # seconds without a new message: the flow has said what it had to say


def rest_client(url: str, account_sid: str | None, auth_token: str | None) -> Any:
    """A ``twilio`` client whose Studio and Messages calls go to ``url``."""
    from twilio.rest import Client

    if not account_sid or not auth_token:
        raise UserError("credentials needed: --account-sid and --auth-token (or TWILIO_*)")
    client = Client(account_sid, auth_token)
    client.studio.base_url = client.api.base_url = url.rstrip("/")
    return client


def check_flow(client: Any, flow_sid: str) -> None:
    """Fail in one line before any webhook: unreachable server, bad credentials, no such
    flow (the webhook itself would only say 403 or 404)."""
    client.studio.v2.flows(flow_sid).fetch()


def post_webhook(
    url: str,
    public: str | None,
    account_sid: str,
    token: str,
    flow_sid: str,
    params: dict[str, str],
) -> str:
    """POST ``params`` to the flow webhook, signed; the TwiML it answered."""
    from twilio.request_validator import RequestValidator

    path = f"/v1/Accounts/{account_sid}/Flows/{flow_sid}"
    signed = (public or url).rstrip("/") + path
    signature = RequestValidator(token).compute_signature(signed, params)
    response = httpx.post(
        url.rstrip("/") + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=30
    )
    if response.status_code != 200:
        raise refused(response.status_code, response.text)
    return response.text


def refused(status: int, text: str) -> UserError:
    """The webhook's refusal in one line (403: the token or the signed URL is not the
    server's, see --public-url)."""
    try:
        reason = str(json.loads(text).get("message") or "")
    except (ValueError, AttributeError):
        reason = text.strip().splitlines()[0][:200] if text.strip() else ""
    return UserError(f"the webhook refused: HTTP {status} {reason}".rstrip())


def sms(
    flow_sid: FlowSid,
    from_: From,
    body: Annotated[str, typer.Option("--body", help="The message text.")],
    to: To = DEFAULT_TO,
    url: Url = DEFAULT_URL,
    public_url: PublicUrl = None,
    account_sid: AccountSid = None,
    auth_token: AuthToken = None,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for the flow's replies.")
    ] = 5.0,
) -> None:
    """Post an inbound SMS to the flow; print the TwiML answer and the messages it sent back."""
    client = rest_client(url, account_sid, auth_token)
    check_flow(client, flow_sid)
    out = Console(highlight=False, soft_wrap=True)
    before = {m.sid for m in client.messages.list(to=from_, limit=100)}
    sid = "SM" + uuid.uuid4().hex
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": client.username,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    answer = post_webhook(url, public_url, client.username, client.password, flow_sid, params)
    out.print(escape(answer.strip()))
    for message in _replies(client, from_, before, wait):
        out.print(f"[bold cyan]flow:[/bold cyan] {escape(message.body or '')}")


def _replies(client: Any, to: str, before: set[str], wait: float) -> list[Any]:
    """The new messages to ``to``, oldest first, once they stop coming (or ``wait`` ran out):
    the flow runs after the webhook answered, as on Studio."""
    deadline, last_change, seen = time.monotonic() + wait, time.monotonic(), 0
    while True:
        new = [m for m in client.messages.list(to=to, limit=100) if m.sid not in before]
        now = time.monotonic()
        if len(new) != seen:
            seen, last_change = len(new), now
        if now > deadline or (new and now - last_change >= QUIET):
            return list(reversed(new))
        time.sleep(0.1)


def call(
    flow_sid: FlowSid,
    from_: From,
    to: To = DEFAULT_TO,
    url: Url = DEFAULT_URL,
    public_url: PublicUrl = None,
    account_sid: AccountSid = None,
    auth_token: AuthToken = None,
    digits: Annotated[
        list[str] | None, typer.Option("--digits", help="Keys for the next DTMF gather.")
    ] = None,
    speech: Annotated[
        list[str] | None, typer.Option("--speech", help="Words for the next speech gather.")
    ] = None,
) -> None:
    """A call in the terminal: prints what the caller hears, asks for keys or speech at each
    gather (then stdin: digits, words, empty for silence, 'hangup'), ends when the flow does."""
    from flowyard.cli.inbound_call import Answers, prompted
    from flowyard.testing.voice import VoiceClient

    client = rest_client(url, account_sid, auth_token)
    check_flow(client, flow_sid)
    out = Console(highlight=False, soft_wrap=True)
    voice = VoiceClient(url, client.username, client.password, signed_base=public_url)
    answers = Answers(out, list(digits or []), list(speech or []))
    try:
        done = voice.call(flow_sid, from_, to, caller=prompted(answers))
    finally:
        voice.close()
    last = done.exchanges[-1] if done.exchanges else None
    if last is not None and last.status != 200:
        raise refused(last.status, last.twiml)
    ending = "on hold (the flow waits for something else)" if done.held else "call ended"
    execution = f" · execution {done.execution_sid}" if done.execution_sid else ""
    out.print(f"[dim]{ending}{execution}[/dim]")


inbound_app.command("sms")(sms)
inbound_app.command("call")(call)
