"""The hot customers' ceilings of docs/performance.md: per stream, every partition it writes or checks,
the one that binds, and the issue's targets as rows reading yes or no."""

from __future__ import annotations

from typing import Any

STREAM_ORDER = ("single", "batch", "ten_single", "ten_batch", "ten_batch_grouped", "paying_single", "paying_batch")
INDEXES_SHARDED = ("usage-by-account", "grant-ledger")


def _partition_kind(label: str) -> str:
    """A partition's role without the account's name: what a reader compares across streams."""
    target, _, key = label.partition(" partition ")
    if target == "table":
        if key.startswith("GRANT#"):
            return "table, a grant's item (`GRANT#<account>#<model>`)"
        return "table, the account's items (`ACCOUNT#<account>`)" if key.startswith("ACCOUNT#") else f"table {key}"
    shard = key.rsplit("#", 1)[-1] if key.count("#") >= (2 if target == "grant-ledger" else 1) else "0"
    return f"`{target}`, shard {shard}"


def _group(label: str) -> str | None:
    """The partitions shown as one row (the hottest) and a range: a sharded index's shards, the
    grants' items (a partition key each)."""
    target, _, key = label.partition(" partition ")
    if target in INDEXES_SHARDED:
        return f"`{target}`"
    return "table, grant items" if target == "table" and key.startswith("GRANT#") else None


def _rows(detail: dict[str, Any]) -> list[str]:
    rows = []
    for name in STREAM_ORDER:
        found = detail[name]
        by_partition = sorted(found["by_partition"].items(), key=lambda item: item[1]["records_per_s"])
        groups: dict[str, list[float]] = {}
        for label, partition in by_partition:
            if (group := _group(label)) is not None:
                groups.setdefault(group, []).append(partition["records_per_s"])
                if len(groups[group]) > 1:
                    continue  # one row per group: its hottest partition
            binds = "**binds**" if label == found["binding"] else ""
            items, units = ", ".join(partition["items"]), f"{partition['units_per_record']:.3g}"
            rows.append(f"| {found['label']} | {_partition_kind(label)} | {items} | {units} | "
                        f"{partition['records_per_s']:,} | {binds} |")  # fmt: skip
        for group, rates in groups.items():
            if len(rates) > 1:
                rows.append(f"| {found['label']} | {group}: {len(rates)} partitions written, the hottest above | | | "
                            f"{min(rates):,} to {max(rates):,} | |")  # fmt: skip
    return rows


def targets(detail: dict[str, Any]) -> list[tuple[str, bool, str]]:
    paying = detail["paying_single"]
    return [
        ("one account, batched, one model: >= 10,000 records/s", detail["batch"]["records_per_s"] >= 10_000,
         f"{detail['batch']['records_per_s']:,}, bound by {_partition_kind(detail['batch']['binding'])}"),
        ("one account, batched, over 10 models: >= 10,000 records/s", detail["ten_batch"]["records_per_s"] >= 10_000,
         f"{detail['ten_batch']['records_per_s']:,}, bound by {_partition_kind(detail['ten_batch']['binding'])}"),
        ("... the same, each batch one model's records", detail["ten_batch_grouped"]["records_per_s"] >= 10_000,
         f"{detail['ten_batch_grouped']['records_per_s']:,}, bound by "
         f"{_partition_kind(detail['ten_batch_grouped']['binding'])}"),
        ("one grant, batched: >= 20,000 records/s", detail["batch"]["grant_records_per_s"] >= 20_000,
         f"{detail['batch']['grant_records_per_s']:,}, bound by {_partition_kind(detail['batch']['grant_binding'])}"),
        ("a single usage on one grant: 500 records/s, the grant item binding",
         detail["single"]["records_per_s"] == 500 and detail["single"]["binding_items"] == ["grant"],
         f"{detail['single']['records_per_s']:,}, bound by the {', '.join(detail['single']['binding_items'])} item"),
        ("a paying customer past the free quota is not bound by the grant item",
         not any(item.startswith("grant") for item in (*paying["binding_items"],
                                                      *detail["paying_batch"]["binding_items"])),
         f"single: {paying['records_per_s']:,}, bound by the {', '.join(paying['binding_items'])}; batched: "
         f"{detail['paying_batch']['records_per_s']:,}, bound by "
         f"{_partition_kind(detail['paying_batch']['binding'])}"),
    ]  # fmt: skip


def section(results: dict[str, Any], units_per_second: int) -> list[str]:
    detail, ops = results["ceiling_detail"], results["ops"]
    streams = [f"- {detail[name]['label']}: {detail[name]['records']:,} records in {detail[name]['requests']} requests"
               for name in STREAM_ORDER]  # fmt: skip
    return [
        "## Hot customers: the ceiling of each stream, per partition",
        "",
        f"DynamoDB takes about {units_per_second:,} write units per second per partition. Each stream ran",
        "through the ledger on moto, in a container that has seen its grants (`make bench ONLY=counts`,",
        "`bench/hot_customers.py`):",
        "",
        *streams,
        "",
        "For every partition that more than one request of a stream wrote or checked: the records per",
        "second it allows (the limit over its units per record). A usage record's own partition",
        "(`USAGE#<request_id>`) is written once and never limits. The account's usage index and a grant's",
        "ledger are spread over shards (16 and 32 by default, see [ledger.md](ledger.md#indexes)); each",
        "sharded index shows as its hottest shard and the range over all of them (over 10 models, a",
        "grant-ledger partition is one shard of one grant).",
        "",
        f"A listing page reads every shard: a usage page of 50 is {ops['usage_page']['requests']} requests",
        f"({_queries(ops['usage_page'])} Queries, one per usage-index shard and then only the shards that",
        "can still hold a record of the page); a page of a grant's ledger reads the grant, then the shards",
        "its entries were written to and shard 0 (the bench's page of 5 entries:",
        f"{ops['grant_ledger_page']['requests']} requests). Writes cost the same as before the shards:",
        "one index entry each.",
        "",
        "**How units are counted.** A table item: the larger of its sizes before and after, one unit per",
        "started KB, doubled in a transaction. A transaction's ConditionCheck is billed the same way as",
        "the item it checks, though nothing changes: the DynamoDB Developer Guide, *Amazon DynamoDB",
        'Transactions: How it works*, section *Capacity management for transactions*: "DynamoDB performs',
        "two underlying reads or writes of every item in the transaction, one to prepare the transaction",
        'and one to commit it". Until this change the meter left ConditionChecks out, so `usage_split`',
        "(a usage that checks the profile's postpaid switch) reads 9 units where it read 7: a correction",
        "of the count, not a change of the requests. An index entry: one unit per started KB, at the",
        "standard rate also in a transaction (`bench/capacity.py`).",
        "",
        "| stream | partition | items written or checked there | write units per record | records per second | |",
        "|---|---|---|---|---|---|",
        *_rows(detail),
        "",
        "| target | met | measured |",
        "|---|---|---|",
        *[f"| {name} | {'yes' if met else 'no'} | {measured} |" for name, met, measured in targets(detail)],
        "",
        *_reasons(detail),
    ]


def _reasons(detail: dict[str, Any]) -> list[str]:
    ten, grouped = detail["ten_batch"], detail["ten_batch_grouped"]["records_per_s"]
    return [
        "**What binds, and what would lift it.**",
        "",
        "- *A single usage* updates its grant in a transaction: 2 units on the grant's table partition",
        "  per record, 500 records a second. Batching lifts it (the grant once per run of up to 99 records).",
        "- *One model, batched*: the grant's share falls to 0.04 units a record and each record writes",
        "  one entry to the account's usage index and one to the grant's ledger, now spread over 16 and 32",
        "  shards. The hottest usage-index shard binds: a record's shard is a hash of its `request_id`, so",
        "  the shards fill unevenly around their mean of 16,000 a second. More shards (`UsageIndexShards`)",
        "  lift it further; a listing page then reads one more Query per shard.",
        f"- *Over 10 models, batched*: {ten['records_per_s']:,} a second. A batch of 100 over 10 models",
        "  updates 10 grants, 2 units each, and every grant is an item under a partition key of its own",
        "  (`GRANT#<account>#<model>`, see [ledger.md](ledger.md#keys)), so each grant takes 0.2 units",
        "  per record of its own model and the usage index binds as for one model. An account's grants",
        "  were items under the account's partition key before (`ACCOUNT#<account>`, with its profile):",
        "  ten grants then shared one partition's 1,000 units, 5,000 records a second. Grants claimed so",
        '  are moved to their own keys by `make migrate-grants` or when first met (docs/operations.md, "Grant',
        f"  keys\"). Batches of one model's records: the row *a model to a batch*, {grouped:,} a second.",
        "  The account's partition keeps its profile (checked once per batch that splits a non-free part)",
        "  and its claims' marks (written once per grant, ever).",
        "- *A paying customer past the free quota*: the grant item is neither written nor checked (its",
        "  remainder is 0 and the usage draws nothing free). A single usage proves the account's postpaid",
        "  switch with a ConditionCheck of the profile: 2 units on the account's partition, 500 records a",
        "  second, the profile item binding. Batched, the profile is checked once per batch and the usage",
        "  index binds as for free usage. What would lift the single case: batching, or checking the",
        "  switch on one of several copies of it (a postpaid change then writes every copy in one",
        "  transaction); not built.",
        "",
    ]


def _queries(measured: dict[str, Any]) -> int:
    return int(measured["by_operation"].get("Query", 0))


def listing_section(results: dict[str, Any]) -> list[str]:
    rows = results.get("listing_at_scale")
    if not rows:
        return []

    def cell(measured: dict[str, Any] | None) -> str:
        return "" if measured is None else f"{measured['requests']} / {measured['items_read']}"

    return [
        "### An account's listing as its records accumulate",
        "",
        "`make bench ONLY=listing` (`bench/listing_at_scale.py`): one account's records added 100 a batch,",
        "one in 25 of a second model; at each count, requests / items returned of a page of 50, of the page",
        "after it, and of a first page of the rare model alone (a filter: it evaluates about 1,000 records",
        "at most, which its read units follow), and the write units of one more usage. A page's cost",
        "follows its size and the shard count, not the account's records; a usage's write is the same",
        "at every count.",
        "",
        "| records of the account | first page | next page | rare model's page | a usage, write units |",
        "|---|---|---|---|---|",
        *[
            f"| {row['records']:,} | {cell(row['first_page'])} | {cell(row['next_page'])} | "
            f"{cell(row['rare_model_page'])} | {row['usage_write']['write_units']} |"
            for row in rows
        ],
        "",
        "(At 0 records the usage claims the trial automatically: its units include the grant's put.)",
        "",
    ]
