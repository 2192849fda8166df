"""Configuration: read once per container from the environment, each bad value refused by name."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trial_ledger import Settings, SettingsError, load_catalog, load_settings
from trial_ledger.config.catalog import default_catalog_document, parse_catalog


def _catalog_document(model_id: str, unit_price: object = "0.001") -> str:
    model = {
        "model_id": model_id,
        "name": "M",
        "capability": "language",
        "unit": "tokens",
        "trial": {"quota": 10, "validity_days": 1},
        "price": {"currency": "CNY", "unit_price": unit_price},
    }
    return json.dumps({"models": [model]})


def test_defaults() -> None:
    settings = Settings.from_environment({})
    assert (settings.table_name, settings.region, settings.endpoint_url) == ("trial-quota", "us-east-1", None)
    assert settings.campaign_closes_at == datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59+08:00
    assert list(settings.catalog) == list(parse_catalog(default_catalog_document()))
    assert settings.hold_ttl_seconds == 900


def test_values_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(_catalog_document("from-file"))
    settings = Settings.from_environment(
        {
            "TABLE_NAME": "ledger-prod",
            "AWS_DEFAULT_REGION": "ap-shanghai-1",
            "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:8000",
            "CAMPAIGN_CLOSES_AT": "2027-01-31T00:00:00Z",
            "CATALOG_FILE": str(path),
            "HOLD_TTL_SECONDS": "120",
        }
    )
    assert settings.hold_ttl_seconds == 120
    assert (settings.table_name, settings.region) == ("ledger-prod", "ap-shanghai-1")
    assert settings.endpoint_url == "http://127.0.0.1:8000"
    assert settings.campaign_closes_at == datetime(2027, 1, 31, tzinfo=UTC)
    assert list(settings.catalog) == ["from-file"]


def test_catalog_json_wins_over_catalog_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(_catalog_document("from-file"))
    settings = Settings.from_environment({"CATALOG_JSON": _catalog_document("from-env"), "CATALOG_FILE": str(path)})
    assert list(settings.catalog) == ["from-env"]


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("CAMPAIGN_CLOSES_AT", "next tuesday", "not an ISO-8601 instant"),
        ("CAMPAIGN_CLOSES_AT", "2026-12-31T23:59:59", "no UTC offset"),
        ("CAMPAIGN_CLOSES_AT", "0001-01-01T00:00:00+01:00", "not an ISO-8601 instant"),
        ("CATALOG_JSON", '{"models": [', "catalog is not JSON"),
        ("CATALOG_JSON", _catalog_document("m1", unit_price=0.001), "models[0].price.unit_price must be a str"),
        ("CATALOG_JSON", '{"models": {}}', '"models" list'),
        ("CATALOG_FILE", "/nonexistent/catalog.json", "cannot read '/nonexistent/catalog.json'"),
        ("TABLE_NAME", "a", "not a DynamoDB table name"),
        ("TABLE_NAME", "has space", "not a DynamoDB table name"),
        ("DYNAMODB_ENDPOINT_URL", "localhost:8000", "not an http(s) URL"),
        ("HOLD_TTL_SECONDS", "29", "from 30 to 3600"),
        ("HOLD_TTL_SECONDS", "3601", "from 30 to 3600"),
        ("HOLD_TTL_SECONDS", "15m", "not a whole number of seconds"),
    ],
)
def test_a_bad_value_is_refused_by_name(variable: str, value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_environment({variable: value})
    assert refused.value.variable == variable
    assert str(refused.value).startswith(f"{variable}: ")
    assert problem in str(refused.value)


def test_a_bad_file_catalog_names_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(_catalog_document("has#hash"))
    with pytest.raises(SettingsError, match=r"^CATALOG_FILE: not a valid catalog: .*model_id 'has#hash'"):
        Settings.from_environment({"CATALOG_FILE": str(path)})


def test_catalog_replaced_by_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CATALOG_JSON", _catalog_document("from-env"))
    load_settings.cache_clear()
    try:
        assert list(load_catalog()) == ["from-env"]
        monkeypatch.delenv("CATALOG_JSON")
        path = tmp_path / "catalog.json"
        path.write_text(_catalog_document("from-file"))
        monkeypatch.setenv("CATALOG_FILE", str(path))
        load_settings.cache_clear()
        assert list(load_catalog()) == ["from-file"]
    finally:
        load_settings.cache_clear()


def test_settings_are_read_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    load_settings.cache_clear()
    try:
        first = load_settings()
        monkeypatch.setenv("CATALOG_JSON", _catalog_document("later"))
        monkeypatch.setenv("CAMPAIGN_CLOSES_AT", "2030-01-01T00:00:00Z")
        assert load_settings() is first
        assert load_catalog() is first.catalog
    finally:
        load_settings.cache_clear()


def test_a_bad_value_fails_the_first_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGN_CLOSES_AT", "31/12/2026")
    load_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match=r"^CAMPAIGN_CLOSES_AT: '31/12/2026' is not an ISO-8601 instant"):
            load_settings()
    finally:
        load_settings.cache_clear()
