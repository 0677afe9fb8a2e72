"""How the outbox keeps a sprint's events, and how they become CloudEvents when delivered.

A row's text is one line per event. Lines that begin with ``{`` are CloudEvents as posted
(alerts, test events). An execution's row begins with a header, ``H<time> <flow_sid>`` (not an
event: the moment of the sprint, which all its events share, and its flow), and keeps its
execution and step events compact, as the values that vary, tab-separated:

- ``S<step_sid>\\t<parent_step_sid>\\t<name>\\t<from>\\t<to>\\t<date_created>``
- ``X<started|ended>\\t<id>\\t<contact>\\t<status>\\t<date_created>\\t<date_updated>
  \\t<started_by>\\t<flow_revision>\\t<ended_reason>``

each value a JSON literal (``null``, ``"…"``, a number; JSON escapes every tab and newline
inside a string) but for SIDs and dates, written bare. The account and the execution are the
row's own columns. Stored whole, an execution's 13 events were ~4 KB, over SQLite's page
(an overflow page on every insert and delete); compact, ~1.5 KB, and building them is
formatting strings, no dicts. ``expand`` formats the CloudEvents (no JSON parsing).
Older rows' steps (``S <time> <flow> <step> <members>``) still expand.
"""

from __future__ import annotations

from typing import Any

import orjson

STEP_ENDED = "com.twilio.studio.flow.step.ended"
SCHEMAS = "https://events-schemas.twilio.com"
_STEP_SCHEMA = f"{SCHEMAS}/Studio.FlowStepEvent/1"
_EXECUTION_SCHEMA = f"{SCHEMAS}/Studio.FlowExecutionEvent/2"
_LITERALS: dict[str, str] = {}  # widget and transition names: a flow has few


def header(time_: str, flow_sid: str) -> str:
    return f"H{time_} {flow_sid}"


def literal(value: str | None) -> str:
    """``value`` as a JSON literal; names repeat in every execution, so they are kept."""
    if value is None:
        return "null"
    found = _LITERALS.get(value)
    if found is None:
        found = orjson.dumps(value).decode()
        if len(_LITERALS) < 50_000:
            _LITERALS[value] = found
    return found


def step_line(step: dict[str, Any], date: str) -> str:
    parent = step["parent_step_sid"]
    return (
        f"S{step['sid']}\t{literal(parent)}\t{literal(step['name'])}\t"
        f"{literal(step['transitioned_from'])}\t{literal(step['transitioned_to'])}\t{date}"
    )


def execution_line(
    kind: str, id_: str, row: Any, status: str, created: str, updated: str, reason: str | None
) -> str:
    """``kind``: ``started`` or ``ended``; ``row``: the execution."""
    contact = orjson.dumps(row.contact_channel_address).decode()
    return (
        f"X{kind}\t{id_}\t{contact}\t{status}\t{created}\t{updated}\t"
        f"{literal(row.initiated_by)}\t{int(row.flow_revision)}\t{literal(reason)}"
    )


def expand(text: str, account_sid: str, execution_sid: str | None, start: int = 0) -> list[str]:
    """A row's events from the ``start``-th on, as the CloudEvents posted."""
    lines = text.split("\n")
    time_ = flow = ""
    if lines[0].startswith("H"):
        time_, _, flow = lines.pop(0)[1:].partition(" ")
    lines = lines[start:]
    if not time_:
        return [_old_step(line, account_sid, execution_sid) for line in lines]
    execution = f"/v2/Flows/{flow}/Executions/{execution_sid}"
    step_head = f'{{"specversion":"1.0","type":"{STEP_ENDED}","source":"{execution}/Steps/'
    step_mid = (
        f'","dataschema":"{_STEP_SCHEMA}","datacontenttype":"application/json",'
        f'"time":"{time_}","data":{{"account_sid":"{account_sid}","flow_sid":"{flow}",'
        f'"execution_sid":"{execution_sid}","step_sid":"'
    )
    out = []
    for line in lines:
        first = line[0]
        if first == "S":
            step, parent, name, source, target, date = line[1:].split("\t")
            out.append(
                f'{step_head}{step}","id":"EZ{step[2:]}{step_mid}{step}",'
                f'"parent_step_sid":{parent},"name":{name},"transitioned_from":{source},'
                f'"transitioned_to":{target},"date_created":"{date}"}}}}'
            )
        elif first == "X":
            kind, id_, contact, status, created, updated, by, revision, reason = line[1:].split(
                "\t"
            )
            ended = f',"ended_reason":{reason}' if reason != "null" else ""
            out.append(
                f'{{"specversion":"1.0","type":"com.twilio.studio.flow.execution.{kind}",'
                f'"source":"{execution}","id":"{id_}","dataschema":"{_EXECUTION_SCHEMA}",'
                f'"datacontenttype":"application/json","time":"{time_}","data":{{'
                f'"execution_sid":"{execution_sid}","account_sid":"{account_sid}",'
                f'"flow_sid":"{flow}","contact_channel_address":{contact},'
                f'"status":"{status}","date_created":"{created}","date_updated":"{updated}",'
                f'"started_by":{by},"flow_revision":{revision}{ended}}}}}'
            )
        else:
            out.append(line)
    return out


def _old_step(line: str, account_sid: str, execution_sid: str | None) -> str:
    """A step line of a row written before headers (``S <time> <flow> <step> <members>``)."""
    if not line.startswith("S "):
        return line
    _, time_, flow, step, rest = line.split(" ", 4)
    execution = orjson.dumps(execution_sid).decode()
    return (
        f'{{"specversion":"1.0","type":"{STEP_ENDED}","source":"/v2/Flows/{flow}/Executions/'
        f'{execution_sid}/Steps/{step}","id":"EZ{step[2:]}","dataschema":"{_STEP_SCHEMA}",'
        f'"datacontenttype":"application/json","time":"{time_}","data":{{"account_sid":'
        f'"{account_sid}","flow_sid":"{flow}","execution_sid":{execution},"step_sid":"{step}",'
        f"{rest}}}}}"
    )
