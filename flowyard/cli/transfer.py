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

from flowyard.cli import project
from flowyard.engine.references import remap_subflows

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


def import_flows(
    files: Annotated[
        list[Path], typer.Argument(help="Flow definition JSON files, or directories of them.")
    ],
    to: Annotated[str, typer.Option("--to", help="Flowyard URL, or 'twilio' for Studio.")],
    account_sid: AccountSid = None,
    auth_token: AuthToken = None,
    status: Annotated[str, typer.Option(help="draft or published.")] = "published",
    update: Annotated[
        bool,
        typer.Option(
            "--update", help="A flow of the same friendly name gets a new revision, not a twin."
        ),
    ] = False,
) -> None:
    """Create one flow per file on the target (prints: file -> FLOW_SID). Flows imported
    together have their run-subflow flow_sid remapped to the SIDs their subflows got here."""
    from twilio.base.exceptions import TwilioRestException

    client = studio_client(to, account_sid, auth_token)
    out = Console(highlight=False, soft_wrap=True)
    flows, failed = [], 0
    for file in project.expand(files):
        try:
            flows.append(project.read_flow(file))
        except (OSError, ValueError) as exc:
            failed += 1
            out.print(f"{escape(str(file))}: [red]cannot read[/red] {escape(str(exc))}")
    project.test_aliases(flows)
    existing: dict[str, str] = {}
    if update:
        for flow in client.studio.v2.flows.stream():
            existing.setdefault(flow.friendly_name, flow.sid)
    new_sids: dict[str, str] = {}
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("importing", total=len(flows))
        for flow in project.in_order(flows):
            label = escape(str(flow.path))
            remap_subflows(flow.definition, new_sids)
            try:
                created = _put(client, flow, status, existing.get(flow.name))
            except TwilioRestException as exc:
                failed += 1
                out.print(f"{label}: [red]refused[/red] {escape(exc.msg)}")
                for detail in (exc.details or {}).get("errors") or []:
                    path, message = detail.get("property_path"), detail.get("message")
                    out.print(f"{label}: {escape(str(path))} {escape(str(message))}")
            else:
                new_sids.update(dict.fromkeys(flow.aliases, created.sid))
                if update:  # two files of one name in one --update import: one flow
                    existing[flow.name] = created.sid
                added = f" (revision {created.revision})" if created.revision > 1 else ""
                out.print(f"{label} -> {created.sid}{added}")
                for warning in created.warnings or []:
                    path, message = warning.get("property_path"), warning.get("message")
                    out.print(
                        f"{label}: [yellow]warning[/yellow] {escape(str(path))} "
                        f"{escape(str(message))}"
                    )
            progress.advance(task)
    if failed:
        raise typer.Exit(1)


def _put(client: Any, flow: project.FlowFile, status: str, sid: str | None) -> Any:
    """Create the flow, or add a revision to flow ``sid``."""
    if sid is None:
        return client.studio.v2.flows.create(
            friendly_name=flow.name, status=status, definition=flow.definition
        )
    return client.studio.v2.flows(sid).update(
        status=status, friendly_name=flow.name, definition=flow.definition
    )


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
    """Write each flow as <slug>.<FLOW_SID>.json (sid, name, status, definition), which test,
    validate, diff and import all read (import remaps subflow SIDs by the sid it holds)."""
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
            target = out_dir / f"{project.slug(flow.friendly_name)}.{flow.sid}.json"
            target.write_text(json.dumps(resource, indent=2) + "\n", encoding="utf-8")
            out.print(f"{flow.sid} -> {escape(str(target))}")
            progress.advance(task)
