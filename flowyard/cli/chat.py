"""``flowyard chat``: talk to a flow in the terminal, as the contact or the caller."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from flowyard.cli.errors import UserError
from flowyard.cli.lineinput import enable, prompt_for_readline

if TYPE_CHECKING:
    from flowyard.testing import FlowRun
    from flowyard.testing.recorder import Recorder

HELP = """commands: /context [path]  /vars  /path  /advance SECONDS  /timeout  /silence
          /hangup  /return [KEY=VALUE…] (back from a TwiML Redirect)
          /restart (a fresh execution of the flow)  /help  /quit
          anything else is your reply, or keys/speech on a call"""
QUIT = ("quit", "q", "exit")


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


def read(out: Console, prompt: str, editing: bool = False) -> str:
    """One line from the user; echoed when piped in, so the transcript reads as a chat.
    ``editing``: readline is on, so the prompt goes to ``input()`` for it to redraw."""
    raw = input(prompt_for_readline(out, prompt)) if editing else out.input(prompt)
    line = raw.strip()
    if not sys.stdin.isatty():
        out.print(escape(line))
    return line


class Chat:
    """One terminal session over a ``FlowRun``."""

    def __init__(
        self,
        run: FlowRun,
        console: Console,
        recorder: Recorder | None,
        editing: bool = False,
    ) -> None:
        self.run = run
        self.out = console
        self.recorder = recorder
        self.editing = editing
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

    def first_message(self) -> str | None:
        """The message that starts the flow; None to quit. Commands typed before it are
        answered here: they neither start the flow nor reach a recorded test."""
        while True:
            try:
                line = read(self.out, "[bold green]you>[/bold green] ", self.editing)
            except EOFError:
                return None
            if not line:
                continue
            if not line.startswith("/"):
                return line
            name = line[1:].partition(" ")[0]
            if name in QUIT:
                return None
            if name in ("help", "restart", ""):
                if name == "restart":
                    self.out.print("[dim]nothing to restart: the flow has not started[/dim]")
                else:
                    self.out.print(HELP)
            else:
                self.out.print(
                    f"[red]/{escape(name)}: the flow has not started; "
                    "your first message starts it[/red]"
                )

    def loop(self) -> str:
        """Read and act until the execution ends (``"ended"``), or ``"quit"``/``"restart"``."""
        while self.run.active:
            try:
                line = read(self.out, self.prompt(), self.editing)
            except EOFError:
                return "quit"
            if not line:
                continue
            if line.startswith("/"):
                outcome = self.command(line)
                if outcome is not None:
                    return outcome
            else:
                self.answer(line)
        return "ended"

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

    def command(self, line: str) -> str | None:
        """Run a ``/command``; ``"quit"`` or ``"restart"`` end this execution's session."""
        run, out = self.run, self.out
        name, _, arg = line[1:].partition(" ")
        if name in QUIT:
            return "quit"
        if name == "restart":
            return "restart"
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
                return None
            self.act("advance", seconds, lambda: run.advance(seconds))
        elif name == "timeout":
            wait = run.sprint.wait if run.sprint is not None else None
            if wait is None or wait.until is None:
                out.print("[red]no timer is running[/red]")
                return None
            seconds = round(wait.until - run.clock.now().timestamp())
            self.act("advance", seconds, lambda: run.advance(seconds))
        elif name == "return":
            try:
                query = _pairs(arg.split(), "/return")
            except typer.BadParameter as exc:
                out.print(f"[red]{escape(str(exc))}[/red]")
                return None
            self.act("redirect_return", query, lambda: run.redirect_return(query))
        elif name == "silence":
            self.act("silence", True, run.silence)
        elif name == "hangup":
            self.act("hangup", True, run.hangup)
        else:
            out.print(HELP)
        return None


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
    from flowyard.testing import load_flow
    from flowyard.testing.flows import UnknownWidget
    from flowyard.testing.recorder import Recorder, write_tests

    out = Console(highlight=False, soft_wrap=True)
    parameters = {k: _param_value(v) for k, v in _pairs(param or [], "--param").items()}
    subflows = _pairs(subflow or [], "--subflow")
    table = json.loads(mocks.read_text(encoding="utf-8")) if mocks else {}
    flow = load_flow(flow_file, subflows=subflows, mocks=table, allow_network=not offline)
    try:
        flow.check_widgets(table)
    except UnknownWidget as exc:
        raise UserError(f"{mocks}: {exc}") from None
    trigger = _trigger(flow.flow.trigger_events(), voice, conversation, rest, parameters)
    spec = next(iter(trigger.values()))
    given = {"to": to, "from": from_, "author": from_}
    spec.update((key, value) for key, value in given.items() if key in spec and value)
    save_history = enable()
    recorded: list[Recorder] = []
    out.print(f"[bold]{escape(flow_file.name)}[/bold] [dim]/help for commands[/dim]")
    try:
        while True:
            run = flow.new_run()
            recorder = Recorder(run, flow_file, copy.deepcopy(trigger)) if record else None
            session = Chat(run, out, recorder, editing=save_history is not None)
            if not _start(session, recorder.trigger if recorder else copy.deepcopy(trigger)):
                break
            if recorder is not None:
                recorded.append(recorder)
            session.show()
            outcome = session.loop()
            out.print(f"[bold]execution {escape(run.where())}[/bold]")
            out.print(f"[dim]path: {escape(' > '.join(run.path))}[/dim]")
            if outcome != "restart":
                break
            out.print("[bold]restarted:[/bold] [dim]a fresh execution of the flow[/dim]")
    finally:
        if save_history is not None:
            save_history()
    if record is not None and recorded:
        for recorder in recorded:
            recorder.subflows = subflows
        write_tests(recorded, record)
        count = f"{len(recorded)} tests" if len(recorded) > 1 else "a test"
        out.print(f"recorded as {escape(str(record))} ({count})")


def _trigger(
    events: dict[str, str | None],
    voice: bool,
    conversation: bool,
    rest: bool,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    """How the flow starts, as a flow test's ``trigger`` (the addresses filled in later)."""
    from flowyard.testing import CONTACT, CONVERSATION, FLOW_NUMBER

    if voice:
        return {"call": {"from": CONTACT, "to": FLOW_NUMBER}}
    if conversation or (
        not (rest or parameters or events.get("incomingMessage"))
        and events.get("incomingConversationMessage")
    ):
        return {"conversation": {"author": CONTACT, "conversation_sid": CONVERSATION}}
    if rest or parameters or not events.get("incomingMessage"):
        return {"rest": {"to": CONTACT, "from": FLOW_NUMBER, "parameters": parameters}}
    return {"message": {"from": CONTACT, "to": FLOW_NUMBER}}


def _start(session: Chat, trigger: dict[str, Any]) -> bool:
    """Start the session's execution as ``trigger`` says (filling in the first message's
    body); False when the user quit before sending one."""
    run = session.run
    kind, spec = next(iter(trigger.items()))
    if kind in ("message", "conversation"):
        first = session.first_message()
        if first is None:
            return False
        spec["body"] = first
        if kind == "message":
            run.message(first, from_=spec["from"], to=spec["to"])
        else:
            run.conversation(
                first, author=spec["author"], conversation_sid=spec["conversation_sid"]
            )
    elif kind == "call":
        run.call(from_=spec["from"], to=spec["to"])
    else:
        run.rest(spec["parameters"], to=spec["to"], from_=spec["from"])
    return True
