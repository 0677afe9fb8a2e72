"""Schemathesis against the official Studio v2 OpenAPI document: no 5xx, on both backends.

A few examples per operation keep it to seconds; ``FLOWYARD_SCHEMATHESIS_EXAMPLES`` raises the
count for a longer hunt. Skips where ``../shared`` (the spec) is absent.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import Server, shared_path

EXAMPLES = int(os.environ.get("FLOWYARD_SCHEMATHESIS_EXAMPLES", "8"))


# Fuzzing only: the coverage phase ignores max_examples (it sends every boundary case the
# schema defines), which made this test more than twice as long.
CONFIG = {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}


@pytest.fixture
def studio_v2(server: Server) -> schemathesis.BaseSchema:
    """The spec; taking ``server`` is what runs the lazy test once per backend."""
    config = schemathesis.config.SchemathesisConfig.from_dict(CONFIG)
    return schemathesis.openapi.from_path(
        shared_path("spec", "twilio_studio_v2.json"), config=config
    )


schema = schemathesis.pytest.from_fixture("studio_v2")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure in CI reproduces locally
    suppress_health_check=list(HealthCheck),
)
def test_studio_v2_spec_cases_are_never_5xx(case: schemathesis.Case, server: Server) -> None:
    case.call_and_validate(
        base_url=server.base_url,
        auth=(server.account_sid, server.auth_token),
        checks=[not_a_server_error],
        timeout=30,
    )
