"""The metrics that matter, as CloudWatch embedded-metric-format lines on stdout."""

import json
from typing import Any

import pytest

from tests.support import IMAGE, LANG_90, NO_TRIAL
from tests.support.api import console, gateway

pytestmark = pytest.mark.usefixtures("handlers")


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    blobs = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs


def values(blobs: list[dict[str, Any]], name: str, **dimensions: str) -> list[float]:
    found = []
    for blob in blobs:
        metric_names = {m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
        if name in metric_names and all(blob.get(key) == value for key, value in dimensions.items()):
            assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "TrialQuota"
            value = blob[name]
            found.append(sum(value) if isinstance(value, list) else value)
    return found


def test_claims_are_counted_by_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    console("POST", "/v1/account/activation")
    console("POST", "/v1/trials/claims", body={"models": [LANG_90, NO_TRIAL, "nope"]})
    blobs = emitted(capsys)
    assert values(blobs, "Claims", outcome="claimed") == [1]
    assert values(blobs, "Claims", outcome="not_eligible") == [1]
    assert values(blobs, "Claims", outcome="unknown_model") == [1]


def test_units_are_counted_free_and_billable(capsys: pytest.CaptureFixture[str]) -> None:
    console("POST", "/v1/account/activation")
    console("PUT", "/v1/account/postpaid", body={"enabled": True})
    gateway("POST", "/v1/usage", {"account_id": "acct-1", "model_id": IMAGE, "quantity": 53, "request_id": "r1"})
    gateway("POST", "/v1/usage", {"account_id": "acct-1", "model_id": IMAGE, "quantity": 53, "request_id": "r1"})
    blobs = emitted(capsys)
    assert values(blobs, "FreeUnits") == [50]
    assert values(blobs, "BillableUnits") == [3]
    assert values(blobs, "UsageReplays") == [1]
    assert values(blobs, "AutoClaims") == [1]


def test_refused_admissions_are_counted_by_reason(capsys: pytest.CaptureFixture[str]) -> None:
    gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": NO_TRIAL})
    assert values(emitted(capsys), "AdmissionsRefused", reason="no_free_quota") == [1]


def test_disabled_metrics_print_nothing(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """POWERTOOLS_METRICS_DISABLED (set by make run) also silences the metrics with their own
    dimension: Powertools' single_metric prints whatever the variable says."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    console("POST", "/v1/account/activation")
    console("POST", "/v1/trials/claims", body={"models": [LANG_90]})
    gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": NO_TRIAL})
    assert emitted(capsys) == []
