"""The write units, the per-grant ceilings and the batched-usage targets of docs/performance.md."""

from __future__ import annotations

from typing import Any

from infra.local.template import LEDGER_TABLE, load_template
from trial_ledger.domain.writes import MAX_TRANSACTION_ITEMS

WRITE_ORDER = ["claim_1", "claim_10", "usage_hot", "usage_split", "usage_cold_container", "usage_plain_after_holds",
               "hold", "settle", "release", "usage_replay", "reversal", "reversal_billed", "extension", "void",
               "usage_batch_100", "usage_batch_mixed"]  # fmt: skip
"""The order of the write-units table; an op that wrote nothing (and no baseline) is left out."""
MAX_BATCH_REQUESTS = 2
"""Issue 14: 100 records on one grant in at most 2 requests, warm."""


def batch_targets(results: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """Issue 14's targets for batched usage: (target, met, measured)."""
    ops, base = results["ops"], results["baseline_ops"]
    rows = []
    for name in ("usage_batch_100", "usage_batch_mixed"):
        op = ops[name]
        scope = f"{op['records']} records on {_grants(op)}"
        rows.append((f"{scope}, warm: <= {MAX_BATCH_REQUESTS} requests", op["requests"] <= MAX_BATCH_REQUESTS,
                     str(op["requests"])))  # fmt: skip
    for name in ("usage_batch_100", "usage_batch_mixed"):
        ours, theirs = ops[name]["write_units_per_record"], base[name]["write_units_per_record"]
        rows.append((f"write units per record <= the baseline's, {_grants(ops[name])}", ours <= theirs,
                     f"{ours} against {theirs}"))  # fmt: skip
    return rows


def _grants(op: dict[str, Any]) -> str:
    return "one grant" if op["grants"] == 1 else f"{op['grants']} grants of one account"


def write_units_section(results: dict[str, Any]) -> list[str]:
    return [
        "## Write units per operation",
        "",
        *_counting_rules(),
        "",
        *_write_units_table(results),
        "",
        *_write_units_verdict(results),
        "",
    ]


def _counting_rules() -> list[str]:
    indexes = load_template()["Resources"][LEDGER_TABLE]["Properties"]["GlobalSecondaryIndexes"]
    return [
        "Computed from the items each operation wrote (`bench/capacity.py`): the meter reads every",
        "written item as it was before and after its request. A table item costs 1 unit per started KB",
        "of the larger of its two images, 2 in a transaction. An index write costs 1 unit per started KB",
        "of the index entry, at the standard rate also when a transaction causes it: one when the item",
        "enters or leaves the index or an attribute the index holds changes, two (a delete and a put)",
        "when an index key changes, none when the write changes nothing the index holds. The indexes",
        "(`template.yaml`):",
        "",
        *[_index_summary(index) for index in indexes],
        "",
        "So a draw that leaves a remainder (it sets `used`, `remaining`, `held_total`, `unreserved`)",
        "leaves its grant's `expiry-candidates` entry alone, and a draw that empties the grant removes",
        "`expiry_shard`: that entry's delete is counted (`usage_split`). Not counted: conditional writes",
        "that were refused (`usage_replay`; DynamoDB bills a refused single-item conditional write at",
        "least 1 unit, so the baseline replay's 0 is a floor) and the table's stream (not billed as",
        "writes). The baseline of a batch is as many single baseline usages as it has records, measured",
        "the same way.",
    ]


def _index_summary(index: dict[str, Any]) -> str:
    keys = ", ".join(part["AttributeName"] for part in index["KeySchema"])
    projection = index["Projection"]
    held = "every attribute" if projection["ProjectionType"] == "ALL" else ", ".join(projection["NonKeyAttributes"])
    return f"- `{index['IndexName']}`: keys {keys}; holds {held}."


def _write_units_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| operation | records | write units | where | per record | baseline write units | baseline per record |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in WRITE_ORDER:
        op, base = results["ops"][name], results["baseline_ops"].get(name, {})
        if not op.get("write_units") and not base.get("write_units"):
            continue
        by_target = sorted(op.get("write_units_by_target", {}).items(), key=lambda pair: (pair[0] != "table", pair[0]))
        where = " + ".join(f"{target} {units}" for target, units in by_target)
        cells = [op.get("records", ""), op.get("write_units", 0), where, op.get("write_units_per_record", ""),
                 base.get("write_units", ""), base.get("write_units_per_record", "")]  # fmt: skip
        lines.append(f"| `{name}` | " + " | ".join(str(cell) for cell in cells) + " |")
    return lines


def _write_units_verdict(results: dict[str, Any]) -> list[str]:
    ops, base = results["ops"], results["baseline_ops"]
    single, baseline = ops["usage_hot"], base["usage_hot"]["write_units"]
    table = single["write_units_by_target"]["table"]
    indexes = single["write_units"] - table
    one, mixed = ops["usage_batch_100"], ops["usage_batch_mixed"]
    return [
        f"Single usage: {single['write_units']} write units against the baseline's {baseline}. The table's {table}",
        f"are one transaction's {single['items_written']} items (the usage record and the grant update),",
        f"{table / single['items_written']:g} units each: a transaction bills every item twice. The other {indexes} "
        "are the usage",
        "record's index entries: `usage-by-account`, and `grant-ledger` (the grant's ledger, R19: the record is",
        "its entry, so the ledger costs this one index write and no item). Outside a transaction the same "
        "writes would cost",
        f"{table // 2 + indexes}, but the record and the draw would no longer be atomic: what remains above the",
        "baseline is the transaction's doubling, the price of that atomicity (and of one round trip",
        f"instead of {base['usage_hot']['requests']}). Batched, one grant write serves up to "
        f"{MAX_TRANSACTION_ITEMS - 1} records, so a record costs",
        "its usage put, its index entry and a share of the grant write:",
        f"{one['write_units_per_record']} on one grant, {mixed['write_units_per_record']} on {mixed['grants']} "
        f"grants, against the baseline's {base['usage_batch_100']['write_units_per_record']}.",
        "",
        f"A claim of one model: {ops['claim_1']['write_units']} write units, of ten: "
        f"{ops['claim_10']['write_units']}. Each grant is",
        "put with its claim's mark (R1's key under the account's partition key, the grant under a key of",
        "its own: [ledger.md](ledger.md#keys)), 2 more units a grant than when the grant was the item at",
        "its claim key; once per grant, ever, for the grants of an account not sharing one partition's",
        "1,000 units a second (the hot customers' ceilings below). Listing the grants reads the marks,",
        f"then the grants: {ops['list_grants']['requests']} requests. The first use of a model in a container",
        "that has not seen it reads its claim key too (1 `BatchGetItem` more, once).",
        "",
        *_corrections_verdict(results),
    ]


def _corrections_verdict(results: dict[str, Any]) -> list[str]:
    ops = results["ops"]
    reversal, billed = ops["reversal"], ops["reversal_billed"]
    return [
        f"A reversal (R17) of a usage that drew free units: {reversal['requests']} requests (the usage's item,",
        "then one transaction of its mark, the reversal item and the grant's next entry; the grant from",
        f"the container's snapshot), {reversal['write_units']} write units. Of a billed-only usage:",
        f"{billed['requests']} requests, {billed['write_units']} write units (no grant, no entry). The issue",
        "asked for 1 request: the body names only the `request_id`, and the write must know the usage's",
        "free units and the grant's last entry to stay exact, so one read comes first. An operator's",
        f"extension or void: {ops['extension']['requests']} requests (the action's replay check, the grant, the",
        f"transaction), {ops['extension']['write_units']} and {ops['void']['write_units']} write units.",
        "",
    ]
