"""The voice test client against an in-process app (``httpx.ASGITransport``), no server."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import orjson

from flowyard.api.app import create_app
from flowyard.config import Settings
from flowyard.service.accounts import bootstrap
from flowyard.store import create_db_engine, migrate
from flowyard.testing.mocks import run_sync
from flowyard.testing.voice import AsyncVoiceClient
from tests.flows import go, state
from tests.voice.helpers import CALLER, NUMBER, call_flow, twiml

MENU = call_flow(
    state("menu", "gather-input-on-call", [go("keypress", "bye"), go("timeout")], say="Press"),
    state("bye", "say-play", [go("audioComplete")], say="You pressed {{widgets.menu.Digits}}"),
    state(
        "dial_out",
        "make-outgoing-call-v2",
        [go("answered", "menu"), go("failed")],
        **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"},
    ),
    rest="dial_out",
)


def test_a_call_in_process(tmp_path: Path):
    account, token = "AC" + uuid.uuid4().hex, uuid.uuid4().hex
    url = f"sqlite:///{tmp_path / 'asgi.db'}"
    db = create_db_engine(url)
    migrate(db)
    settings = Settings(database_url=url, account_sid=account, auth_token=token)
    bootstrap(db, settings)
    db.dispose()
    app = create_app(settings)

    async def scenario() -> tuple[list[str], list[str]]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                created = await http.post(
                    "/v2/Flows",
                    auth=(account, token),
                    data={
                        "FriendlyName": "asgi",
                        "Status": "published",
                        "Definition": orjson.dumps(MENU).decode(),
                    },
                )
                flow_sid = created.json()["sid"]
                client = AsyncVoiceClient("http://app", account, token, app=app)
                try:
                    call = await client.call(flow_sid, CALLER, NUMBER, answers=["4"])
                finally:
                    await client.aclose()
                # The same flow calls out when started over REST; the callee answers.
                started = await http.post(
                    f"/v2/Flows/{flow_sid}/Executions",
                    auth=(account, token),
                    data={"To": "+15550004444", "From": NUMBER},
                )
                assert started.json()["status"] == "active", started.text
                # The flow runs after the create answered: wait until it placed its call.
                await app.state.runtime.settle(started.json()["sid"])
                client = AsyncVoiceClient("http://app", account, token, app=app)
                try:
                    outbound = await client.answer(to="+15550004444", answers=["9"])
                finally:
                    await client.aclose()
                assert outbound.execution_sid == started.json()["sid"], started.text
                assert outbound.heard == ["Press", "You pressed 9"]
                steps = await http.get(
                    f"/v2/Flows/{flow_sid}/Executions/{call.execution_sid}/Steps",
                    auth=(account, token),
                )
                names = [s["name"] for s in reversed(steps.json()["steps"])]
                assert twiml(call.exchanges[0].twiml)[0].tag == "Gather"
                return call.heard, names

    heard, names = run_sync(scenario)
    assert heard == ["Press", "You pressed 4"]
    assert names == ["incomingCall", "keypress", "audioComplete"]
