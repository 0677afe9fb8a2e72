"""The 41 real Studio exports (tests/data/flows, then ../shared/flows) go in through the SDK
and come back equal."""

from __future__ import annotations

import csv
import json

import pytest
from twilio.rest import Client

from tests.conftest import DATA, SHARED, corpus_flows, shared_path

FLOW_FILES = list(corpus_flows()) or ["(no flows)"]


def _listed(folder) -> set[str]:
    with (folder / "MANIFEST.tsv").open(newline="") as manifest:
        return {row["file"] for row in csv.DictReader(manifest, delimiter="\t")}


def test_copied_flows_match_their_manifest() -> None:
    folder = DATA / "flows"
    files = {p.name for p in folder.glob("*.json")}
    assert files
    assert _listed(folder) == files


def test_corpus_is_complete() -> None:
    folder = SHARED / "flows"
    if not folder.is_dir():
        pytest.skip(f"{SHARED} is absent: only {len(FLOW_FILES)} flows here (not copied: license)")
    files = {p.name for p in folder.glob("*.json")}
    assert len(files) == 41
    assert _listed(folder) == files
    assert set(corpus_flows()) == files


@pytest.mark.parametrize("name", FLOW_FILES)
def test_corpus_flow_round_trips(client: Client, name: str) -> None:
    text = shared_path("flows", name).read_text(encoding="utf-8")
    definition = json.loads(text)
    flows = client.studio.v2.flows

    created = flows.create(
        friendly_name=name[:64], status="published", definition=definition, commit_message=name
    )
    assert created.valid is True
    assert created.errors == []
    assert created.definition == definition

    fetched = flows(created.sid).fetch()
    assert fetched.definition == definition
    assert fetched.revision == 1
    assert flows(created.sid).revisions("LatestPublished").fetch().definition == definition

    # The file's own text, sent as-is (not re-encoded by the SDK), means the same definition.
    updated = flows(created.sid).update(status="draft", definition=text)
    assert updated.revision == 2
    assert updated.definition == definition
    assert flows(created.sid).revisions(1).fetch().definition == definition

    assert [f.sid for f in flows.list()] == [created.sid]
    assert client.studio.v1.flows(created.sid).fetch().version == 2
