"""``flowyard chat``: talk to a flow in the terminal, as the contact or the caller."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from flowyard.testing import FlowRun
    from flowyard.testing.recorder import Recorder

HELP = """commands: /context [path]  /vars  /path  /advance SECONDS  /timeout  /silence
          /hangup  /return [KEY=VALUE…] (back from a TwiML Redirect)  /help  /quit
          anything else is your reply, or keys/speech on a call"""


def _pairs(items: list[str], what: str) -> dict[str, str]:
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} must be KEY=VALUE, not {item!r}")
        result[key] = value
    return result


def _param_value(text: str) -> Any:
    # ``--param age=42`` gives a number, as JSON Parameters would; anything else stays text.
    try:
        return json.loads(text)
    except ValueError:
        return text


def read(out: Console, prompt: str) -> str:
    """One line from the user; echoed when piped in, so the transcript reads as a chat."""
    line = out.input(prompt).strip()
    if not sys.stdin.isatty():
        out.print(escape(line))
    return line


class Chat:
    """One terminal session over a ``FlowRun``."""

    def __init__(self, run: FlowRun, console: Console, recorder: Recorder | None) -> None:
        self.run = run
        self.out = console
        self.recorder = recorder
        self.seen = self.errors = 0

    def show(self) -> None:
        """Print what happened since the last prompt: steps, messages, what was heard."""
        run, out = self.run, self.out
        for kind, item in run.timeline[self.seen :]:
            if kind == "step":
                out.print(
                    f"  [dim]{escape(item.transitioned_from)} --{escape(item.name)}--> "
                    f"{escape(item.transitioned_to)}[/dim]"
                )
            elif kind == "sent":
                media = f" [dim]{' '.join(item.media_urls)}[/dim]" if item.media_urls else ""
                out.print(f"[bold cyan]flow:[/bold cyan] {escape(item.body)}{media}")
            else:
                out.print(f"[bold magenta]caller hears:[/bold magenta] {escape(item)}")
        for error in run.errors[self.errors :]:
            out.print(
                f"[yellow]engine: {escape(error.kind)} at {error.widget}: "
                f"{escape(error.message)}[/yellow]"
            )
        self.seen, self.errors = len(run.timeline), len(run.errors)
        if self.recorder is not None:
            self.recorder.observe()

    def prompt(self) -> str:
        kind = self.run.waiting_for
        label = {"reply": "you", "gather": "keys or speech"}.get(kind or "", "command")
        return f"[bold green]{label}>[/bold green] "

    def loop(self) -> None:
        while self.run.active:
            try:
                line = read(self.out, self.prompt())
            except EOFError:
                break
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    break
            else:
                self.answer(line)

    def act(self, action: str, value: Any, perform: Any) -> None:
        from flowyard.testing import ScriptError

        try:
            perform()
        except ScriptError as exc:
            self.out.print(f"[red]{escape(str(exc))}[/red]")
            return
        if self.recorder is not None:
            self.recorder.action(action, value)
        self.show()

    def answer(self, line: str) -> None:
        run = self.run
        if run.waiting_for == "gather":
            if all(c.isdigit() or c in "*#" for c in line):
                self.act("digits", line, lambda: run.digits(line))
            else:
                self.act("speech", line, lambda: run.speech(line))
        else:
            self.act("reply", line, lambda: run.reply(line))

    def command(self, line: str) -> bool:
        """Run a ``/command``; False means quit."""
        run, out = self.run, self.out
        name, _, arg = line[1:].partition(" ")
        if name in ("quit", "q", "exit"):
            return False
        if name == "context":
            from flowyard.testing.expect import lookup

            value = lookup(run.context, arg.strip()) if arg.strip() else run.context
            out.print_json(json.dumps(value, default=repr))
        elif name == "vars":
            out.print_json(json.dumps(run.variables))
        elif name == "path":
            out.print(escape(" > ".join(run.path)))
        elif name == "advance":
            try:
                seconds = float(arg)
            except ValueError:
                out.print("[red]/advance SECONDS[/red]")
                return True
            self.act("advance", seconds, lambda: run.advance(seconds))
        elif name == "timeout":
            wait = run.sprint.wait if run.sprint is not None else None
            if wait is None or wait.until is None:
                out.print("[red]no timer is running[/red]")
                return True
            seconds = round(wait.until - run.clock.now().timestamp())
            self.act("advance", seconds, lambda: run.advance(seconds))
        elif name == "return":
            try:
                query = _pairs(arg.split(), "/return")
            except typer.BadParameter as exc:
                out.print(f"[red]{escape(str(exc))}[/red]")
                return True
            self.act("redirect_return", query, lambda: run.redirect_return(query))
        elif name == "silence":
            self.act("silence", True, run.silence)
        elif name == "hangup":
            self.act("hangup", True, run.hangup)
        else:
            out.print(HELP)
        return True


def chat(
    flow_file: Annotated[
        Path, typer.Argument(help="The flow definition JSON file.", exists=True, dir_okay=False)
    ],
    to: Annotated[
        str | None, typer.Option("--to", help="REST: the contact; message/call: flow number.")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="REST: the flow number; message/call: contact.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="KEY=VALUE: start through REST.")
    ] = None,
    voice: Annotated[bool, typer.Option("--voice", help="Start with an inbound call.")] = False,
    conversation: Annotated[
        bool,
        typer.Option(
            "--conversation", help="Start with a Conversations message; --from is the author."
        ),
    ] = False,
    rest: Annotated[bool, typer.Option("--rest", help="Start through the REST API.")] = False,
    subflow: Annotated[
        list[str] | None, typer.Option("--subflow", help="FLOW_SID=FILE for Run Subflow.")
    ] = None,
    mocks: Annotated[
        Path | None, typer.Option("--mocks", help="JSON file of mocks, as in flow tests.")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Unmocked HTTP widgets fail instead of calling.")
    ] = False,
    record: Annotated[
        Path | None, typer.Option("--record", help="Write the session as a flow test here.")
    ] = None,
) -> None:
    """Run a flow in-process and chat with it: no server, no phone, a virtual clock."""
    from flowyard.testing import CONTACT, CONVERSATION, FLOW_NUMBER, load_flow
    from flowyard.testing.recorder import Recorder

    out = Console(highlight=False, soft_wrap=True)
    parameters = {k: _param_value(v) for k, v in _pairs(param or [], "--param").items()}
    subflows = _pairs(subflow or [], "--subflow")
    table = json.loads(mocks.read_text(encoding="utf-8")) if mocks else {}
    flow = load_flow(flow_file, subflows=subflows, mocks=table, allow_network=not offline)
    events = flow.flow.trigger_events()
    run = flow.new_run()
    if voice:
        trigger: dict[str, Any] = {"call": {"from": from_ or CONTACT, "to": to or FLOW_NUMBER}}
    elif conversation or (
        not (rest or parameters or events.get("incomingMessage"))
        and events.get("incomingConversationMessage")
    ):
        trigger = {"conversation": {"author": from_ or CONTACT, "conversation_sid": CONVERSATION}}
    elif rest or parameters or not events.get("incomingMessage"):
        trigger = {"rest": {"to": to or CONTACT, "from": from_ or FLOW_NUMBER}}
        trigger["rest"]["parameters"] = parameters
    else:
        trigger = {"message": {"from": from_ or CONTACT, "to": to or FLOW_NUMBER}}
    recorder = Recorder(run, flow_file, trigger) if record else None
    session = Chat(run, out, recorder)
    out.print(f"[bold]{escape(flow_file.name)}[/bold] [dim]/help for commands[/dim]")
    if "message" in trigger or "conversation" in trigger:
        try:
            first = read(out, "[bold green]you>[/bold green] ")
        except EOFError:
            return
        if "message" in trigger:
            trigger["message"]["body"] = first
            run.message(first, from_=trigger["message"]["from"], to=trigger["message"]["to"])
        else:
            spec = trigger["conversation"]
            spec["body"] = first
            run.conversation(
                first, author=spec["author"], conversation_sid=spec["conversation_sid"]
            )
    elif "call" in trigger:
        run.call(from_=trigger["call"]["from"], to=trigger["call"]["to"])
    else:
        run.rest(parameters, to=trigger["rest"]["to"], from_=trigger["rest"]["from"])
    session.show()
    session.loop()
    out.print(f"[bold]execution {escape(run.where())}[/bold]")
    out.print(f"[dim]path: {escape(' > '.join(run.path))}[/dim]")
    if recorder is not None and record is not None:
        recorder.subflows = subflows
        recorder.write(record)
        out.print(f"recorded as {escape(str(record))}")
