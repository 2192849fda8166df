"""The holds-at-scale section and target of docs/performance.md (issue 23 item 4, SPEC R13a)."""

from __future__ import annotations

from typing import Any

MAX_EXTRA_WRITE_UNITS = 2
"""R13a: at most this many write units more than with no live hold, per write to the grant."""
MAX_GRANT_BYTES = 2048
REQUIRED_COUNTS = (0, 100, 1_000, 10_000)
"""Issue 23: the live-hold counts the benchmark measures at."""
LABELS = {
    "hold": "hold",
    "settle": "settle, in the container that took the hold",
    "settle_elsewhere": "settle, in another container",
    "release": "release",
    "usage_plain": "plain usage",
    "usage_batch_100": "batch of 100 usages",
}
BATCHES = {"usage_batch_100"}
"""Operations that write the grant once per request: their allowance is per request."""


def bound(section: dict[str, Any]) -> dict[str, Any]:
    """Whether R13a's bound holds over the measured counts: every operation takes the requests it
    takes with no live hold, and at most ``MAX_EXTRA_WRITE_UNITS`` more write units per write of the
    grant (a batch writes it once per request); the grant item stays within ``MAX_GRANT_BYTES``.
    ``worst_extra_write_units`` is per write of the grant; ``failures`` says what broke the bound."""
    rows = section["rows"]
    measured = {row["live_holds"] for row in rows}
    failures = [f"not measured at {count:,} live holds" for count in REQUIRED_COUNTS if count not in measured]
    first = next((row for row in rows if row["live_holds"] == 0), None)
    if first is None:
        return {"met": False, "failures": failures, "worst_extra_write_units": None, "worst_operation": None,
                "largest_grant_bytes": max(row["grant_bytes"] for row in rows)}  # fmt: skip
    worst: tuple[float, str] = (0, "")
    for row in rows:
        for name, op in row["ops"].items():
            start, count = first["ops"][name], row["live_holds"]
            if op["requests"] != start["requests"]:
                failures.append(f"{name}: {op['requests']} requests at {count:,} live holds, {start['requests']} at 0")
            extra = op["write_units"] - start["write_units"]
            writes = start["requests"] if name in BATCHES else 1
            if extra > MAX_EXTRA_WRITE_UNITS * writes:
                allowed = MAX_EXTRA_WRITE_UNITS * writes
                failures.append(f"{name}: {extra:+} write units at {count:,} live holds (at most {allowed:+})")
            worst = max(worst, (extra / writes, name))
        if row["grant_bytes"] > MAX_GRANT_BYTES:
            failures.append(f"the grant item: {row['grant_bytes']:,} bytes at {row['live_holds']:,} live holds")
    largest = max(row["grant_bytes"] for row in rows)
    return {"met": not failures, "failures": failures, "worst_extra_write_units": _number(worst[0]),
            "worst_operation": worst[1], "largest_grant_bytes": largest}  # fmt: skip


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 2)


def targets(results: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """The Targets table's row: (target, met, measured); **no** when the bench did not measure it."""
    section = results.get("holds_at_scale")
    most = section["rows"][-1]["live_holds"] if section else 10_000
    name = (f"holds at scale (R13a), 0 to {most:,} live holds: the same requests, <= +{MAX_EXTRA_WRITE_UNITS} "
            f"write units per write of the grant, grant item <= {MAX_GRANT_BYTES:,} bytes")  # fmt: skip
    if not section:
        return [(name, False, "not measured")]
    found = bound(section)
    counts = "/".join(f"{row['live_holds']:,}" for row in section["rows"])
    measured = (f"{counts}: {'; '.join(found['failures'])}" if found["failures"] else
                f"{counts}: requests flat; +{found['worst_extra_write_units']} write units at most per write; "
                f"grant {found['largest_grant_bytes']:,} bytes at most")  # fmt: skip
    return [(name, found["met"], measured)]


def section(results: dict[str, Any]) -> list[str]:
    """The '## Holds at scale' section: operations as rows, live-hold counts side by side."""
    holds = results.get("holds_at_scale")
    if not holds:
        return []
    rows = holds["rows"]
    header = " | ".join(f"{row['live_holds']:,} live holds" for row in rows)
    return [
        "## Holds at scale",
        "",
        f"Each operation with 0 to {rows[-1]['live_holds']:,} live holds of other requests on its grant",
        f"(`bench/holds_at_scale.py`): holds of 1 unit with request ids of {holds['request_id_chars']} characters,",
        f"on an account whose id has {holds['account_id_chars']}, their TTLs spread over every hold period from 3",
        "minutes to an hour, all live at the bench's frozen clock. Each cell is *requests / write units*,",
        "counted and billed as above. The settle in another container is a second `Ledger` on the same",
        "table that has seen the grant (as after an authorize) but not the hold: its first put is refused",
        "with the hold (not billed here, as every refused write). The ceiling is the grant's, from a",
        f"stream of {rows[0]['ceiling']['records']} plain usages on it.",
        "",
        f"| operation | {header} |",
        "|---|" + "---|" * len(rows),
        *[_op_row(name, rows) for name in LABELS],
        _line(
            "grant item, bytes (periods in `held_units`)",
            [f"{row['grant_bytes']:,} ({row['hold_periods']})" for row in rows],
        ),
        _line(
            "ceiling, records per second on one grant",
            [f"{row['ceiling']['records_per_s']:,} ({_binding(row['ceiling'])})" for row in rows],
        ),
        "",
        *_verdict(holds),
        "",
    ]


def _line(label: str, cells: list[str]) -> str:
    return f"| {label} | {' | '.join(cells)} |"


def _op_row(name: str, rows: list[dict[str, Any]]) -> str:
    operations = ", ".join(f"{kind} {n}" for kind, n in sorted(rows[0]["ops"][name]["by_operation"].items()))
    cells = [f"{row['ops'][name]['requests']} / {row['ops'][name]['write_units']}" for row in rows]
    return _line(f"{LABELS[name]} ({operations})", cells)


def _binding(found: dict[str, Any]) -> str:
    where = "the grant" if found["binding_items"] == ["grant"] else f"{found['binding_target']} partition"
    return f"{where}, {found['binding_units_per_record']:g} units a record"


def _verdict(holds: dict[str, Any]) -> list[str]:
    found = bound(holds)
    if not found["met"]:
        return [f"R13a's bound does **not** hold: {'; '.join(found['failures'])}."]
    return [
        "R13a's bound holds (the contract, section 9): every operation takes the same requests at every",
        f"count; each write of the grant costs at most {found['worst_extra_write_units']} write units more than "
        f"with no live hold (allowed: {MAX_EXTRA_WRITE_UNITS};",
        "a batch writes the grant once per request); the grant item stays within "
        f"{MAX_GRANT_BYTES:,} bytes ({found['largest_grant_bytes']:,} at most).",
        "",
        "The grant keeps one total per hold period (`held_units`, keyed by the period's end), never an",
        "entry per hold: live periods end within the longest TTL (3,600 s) plus one 60-second period,",
        "so the map has at most 61 live entries however many holds are live; only the totals' digits",
        "grow with the count.",
        "",
        *_step(holds["rows"], found["worst_extra_write_units"]),
    ]


def _step(rows: list[dict[str, Any]], extra: float) -> list[str]:
    """Where the write units that differ from no live hold come from."""
    if extra <= 0:
        return ["No operation's write units change with the count."]
    first, last = rows[0], rows[-1]
    ceilings = [row["ceiling"]["records_per_s"] for row in rows]
    return [
        f"The {extra} more units a write are the grant's: its map went from {first['hold_periods']} to "
        f"{last['hold_periods']} entries and the item",
        f"from {first['grant_bytes']:,} to {last['grant_bytes']:,} bytes, past a started KB, which a transaction "
        "bills 2 units. The grant's",
        f"ceiling, bound by its writes, goes from {ceilings[0]:,} to {min(ceilings):,} records per second "
        "with it, and no further.",
    ]
