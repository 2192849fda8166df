"""The table is declared once, in template.yaml; the PynamoDB models must agree with it."""

from typing import Any

from infra.local.template import load_template, table_definition
from trial_ledger.dynamo.items import EntryItem, GrantItem, HoldItem, LedgerItem, UsageItem


def _indexes() -> dict[str, dict[str, Any]]:
    return {index["IndexName"]: index for index in table_definition("t")["GlobalSecondaryIndexes"]}


def test_table_keys_match_the_models() -> None:
    definition = table_definition("t")
    assert definition["KeySchema"] == [
        {"AttributeName": LedgerItem.pk.attr_name, "KeyType": "HASH"},
        {"AttributeName": LedgerItem.sk.attr_name, "KeyType": "RANGE"},
    ]
    assert definition["BillingMode"] == "PAY_PER_REQUEST"


def test_indexes_match_the_models() -> None:
    indexes = _indexes()
    assert set(indexes) == {"expiry-candidates", "usage-by-account", "open-holds", "grant-ledger"}  # one per listing
    for index in (GrantItem.candidates, UsageItem.by_account, HoldItem.open_holds, EntryItem.ledger):
        declared = indexes[index.Meta.index_name]
        schema = {key["KeyType"]: key["AttributeName"] for key in declared["KeySchema"]}
        model_keys = {
            ("HASH" if attribute.is_hash_key else "RANGE"): attribute.attr_name
            for attribute in index.Meta.attributes.values()  # type: ignore[union-attr]
        }
        assert schema == model_keys
        assert declared["Projection"]["ProjectionType"] == index.Meta.projection.projection_type


def test_expiry_index_projects_only_immutable_attributes() -> None:
    """Usage changes ``remaining`` and ``used``: projecting them would add an index write to every
    usage. The index carries only what never changes after the claim."""
    projected = set(_indexes()["expiry-candidates"]["Projection"]["NonKeyAttributes"])
    assert projected == {"item_type", "account_id", "model_id", "quota"}
    assert set(GrantItem.candidates.Meta.projection.non_key_attributes) == projected


def test_grant_ledger_index_projects_what_an_entry_shows() -> None:
    """An entry's item changes little after it is written (a usage's ``free_remaining``, a
    reversal mark): none of that is projected, so only the entry's own write costs an index write."""
    projected = _indexes()["grant-ledger"]["Projection"]["NonKeyAttributes"]
    assert projected == EntryItem.ledger.Meta.projection.non_key_attributes
    assert not {"free_remaining", "reversed_at", "reversal_reason", "status", "held"} & set(projected)


def test_production_table_protections() -> None:
    properties = load_template()["Resources"]["LedgerTable"]
    assert properties["DeletionPolicy"] == "Retain"
    assert properties["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
