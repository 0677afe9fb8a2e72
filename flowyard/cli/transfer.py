"""``flowyard import`` / ``flowyard export``: move flow definitions between a Flowyard
server and Twilio Studio through the official ``twilio`` SDK (Studio v2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

TWILIO = "https://studio.twilio.com"

AccountSid = Annotated[
    str | None,
    typer.Option("--account-sid", envvar="TWILIO_ACCOUNT_SID", help="Account SID or API key."),
]
AuthToken = Annotated[
    str | None,
    typer.Option("--auth-token", envvar="TWILIO_AUTH_TOKEN", help="Auth token or key secret."),
]


def studio_client(url: str, account_sid: str | None, auth_token: str | None) -> Any:
    """A ``twilio`` client whose Studio calls go to ``url`` (``twilio`` for Twilio itself)."""
    from twilio.rest import Client

    if not account_sid or not auth_token:
        raise typer.BadParameter("credentials needed: --account-sid and --auth-token")
    client = Client(account_sid, auth_token)
    if url.rstrip("/") not in ("twilio", TWILIO):
        client.studio.base_url = url.rstrip("/")
    return client


def _definition(path: Path) -> tuple[dict[str, Any], str | None]:
    """The definition in ``path`` and the friendly name an exported resource carried."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("definition"), dict):
        return data["definition"], data.get("friendly_name")
    return data, None


def import_flows(
    files: Annotated[list[Path], typer.Argument(help="Flow definition JSON files.")],
    to: Annotated[str, typer.Option("--to", help="Flowyard URL, or 'twilio' for Studio.")],
    account_sid: AccountSid = None,
    auth_token: AuthToken = None,
    status: Annotated[str, typer.Option(help="draft or published.")] = "published",
) -> None:
    """Create one flow per file on the target (prints: file -> FLOW_SID)."""
    from twilio.base.exceptions import TwilioRestException

    client = studio_client(to, account_sid, auth_token)
    out = Console(highlight=False, soft_wrap=True)
    failed = 0
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("importing", total=len(files))
        for file in files:
            try:
                definition, name = _definition(file)
                flow = client.studio.v2.flows.create(
                    friendly_name=name or file.stem, status=status, definition=definition
                )
                out.print(f"{escape(str(file))} -> {flow.sid}")
            except (OSError, ValueError) as exc:
                failed += 1
                out.print(f"{escape(str(file))}: [red]cannot read[/red] {escape(str(exc))}")
            except TwilioRestException as exc:
                failed += 1
                out.print(f"{escape(str(file))}: [red]refused[/red] {escape(exc.msg)}")
                for detail in (exc.details or {}).get("errors") or []:
                    path, message = detail.get("property_path"), detail.get("message")
                    out.print(f"{escape(str(file))}: {escape(str(path))} {escape(str(message))}")
            progress.advance(task)
    if failed:
        raise typer.Exit(1)


def export_flows(
    flow_sids: Annotated[
        list[str] | None, typer.Argument(help="Flows to export; none: every flow.")
    ] = None,
    from_: Annotated[
        str, typer.Option("--from", help="Flowyard URL, or 'twilio' for Studio.")
    ] = TWILIO,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")] = Path("."),
    account_sid: AccountSid = None,
    auth_token: AuthToken = None,
) -> None:
    """Write each flow as FLOW_SID.json (name, status, definition), which test, validate,
    diff and import all read."""
    client = studio_client(from_, account_sid, auth_token)
    out = Console(highlight=False, soft_wrap=True)
    sids = flow_sids or [flow.sid for flow in client.studio.v2.flows.stream()]
    out_dir.mkdir(parents=True, exist_ok=True)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("exporting", total=len(sids))
        for sid in sids:
            flow = client.studio.v2.flows(sid).fetch()
            resource = {
                "sid": flow.sid,
                "friendly_name": flow.friendly_name,
                "status": flow.status,
                "revision": flow.revision,
                "definition": flow.definition,
            }
            target = out_dir / f"{flow.sid}.json"
            target.write_text(json.dumps(resource, indent=2) + "\n", encoding="utf-8")
            out.print(f"{flow.sid} -> {escape(str(target))}")
            progress.advance(task)
