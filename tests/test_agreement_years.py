"""Issue 14: framework agreements over their whole four years, the buyer side, one section per
numbered point, with the figures of the Ille-et-Vilaine deliberation: three lots (50 000 /
80 000, 60 000 / 120 000, 180 000 / 300 000 EUR HT a year), 290 000 / 500 000 EUR HT a year
overall, 4, 4 and 8 holders, two years from 19 February 2024 renewable once (four years),
budget line 11/0201/6184."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from apptool.cli import app
from apptool.domain.contract import agreement_year, agreement_year_bounds, agreement_years
from apptool.output.french import euros
from conftest import check_golden, safe_load

runner = CliRunner()

LOT1_HOLDERS = """\
      - {rank: 1, id: r1, name: Rotation Un, capacity: 3, price: 1000}
      - {rank: 2, id: r2, name: Rotation Deux, capacity: 3, price: 1000}
      - {rank: 3, id: r3, name: Rotation Trois, capacity: 3, price: 1000}
      - {rank: 4, id: r4, name: Rotation Quatre, capacity: 3, price: 1000}
"""
LOT2_HOLDERS = """\
      - {rank: 1, id: c1, name: Cascade Un, capacity: 1, price: 450, siret: "81234560100007"}
      - {rank: 2, id: c2, name: Cascade Deux, capacity: 2, price: 470}
      - {rank: 3, id: c3, name: Cascade Trois, capacity: 2, price: 430}
      - {rank: 4, id: c4, name: Cascade Quatre, capacity: 2, price: 480}
"""
#: Lot 3: eight holders whose capacities add up to 23 (2, 4, 3, 3, 4, 2, 2, 3).
LOT3_HOLDERS = "".join(
    f"      - {{rank: {rank}, id: e{rank}, name: Equipe {rank}, capacity: {cap}, price: 320}}\n"
    for rank, cap in enumerate((2, 4, 3, 3, 4, 2, 2, 3), start=1)
)


def deliberation(
    renewal: bool = True,
    overall_maximum: int = 500000,
    lot1: str = LOT1_HOLDERS,
    lot3: str = LOT3_HOLDERS,
    lot3_holders: str = "holders_per_lot: 8",
) -> str:
    return f"""\
buyer:
  name: Département d'Ille-et-Vilaine
  siret: "22350000000003"
  address: [1 avenue de la Préfecture, 35042 Rennes]
  signatory: Le Président du Conseil départemental, par délégation
agreement:
  reference: AC-2024-APP
  title: Analyse de pratiques et supervision
  start: 2024-02-19
  end: 2026-02-18
  renewal_end: 2028-02-18
  renewal_recorded: {str(renewal).lower()}
  estimated_yearly: 290000
  maximum_yearly: {overall_maximum}
  budget_line: 11/0201/6184
lots:
  - number: 1
    title: Analyse de pratique managériale des cadres
    allocation: rotation
    estimated_yearly: 50000
    maximum_yearly: 80000
    holders_per_lot: 4
    holders:
{lot1}  - number: 2
    title: Supervision des fonctions spécifiques
    allocation: cascade
    estimated_yearly: 60000
    maximum_yearly: 120000
    holders_per_lot: 4
    holders:
{LOT2_HOLDERS}  - number: 3
    title: Équipes pluridisciplinaires
    allocation: cascade
    estimated_yearly: 180000
    maximum_yearly: 300000
    {lot3_holders}
    holders:
{lot3}groups:
"""


def write_buyer(root: Path, groups: str, head: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    items = "".join(f"  {line.strip()}\n" for line in groups.splitlines() if line.strip())
    (root / "buyer.yaml").write_text((head or deliberation()) + items, encoding="utf-8")
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def flat(text: str) -> str:
    return " ".join(text.split())


def orders(root: Path) -> list[dict[str, Any]]:
    path = root / "records" / "orders.yaml"
    if not path.exists():
        return []
    return list(safe_load(path.read_text(encoding="utf-8"))["orders"])


def by_group(root: Path, group: str) -> list[dict[str, Any]]:
    return [o for o in orders(root) if o["group"] == group]


def lot_groups(lot: int, count: int, prefix: str, extra: str = "") -> str:
    team = "team: t{i}, " if lot == 1 else ""
    return "".join(
        f"- {{id: {prefix}{i}, name: Groupe {prefix}{i}, lot: {lot}, "
        + team.format(i=i)
        + f"sessions: 10{extra}}}\n"
        for i in range(1, count + 1)
    )


# --- 1. agreement years ---------------------------------------------------------------------


def test_agreement_years_run_twelve_months_from_the_start() -> None:
    start = date(2024, 2, 19)
    assert [agreement_year(start, date.fromisoformat(d)) for d in (
        "2024-02-18", "2024-02-19", "2024-12-31", "2025-01-10", "2025-02-18",
        "2025-02-19", "2026-02-18", "2026-02-19", "2027-02-19", "2028-02-18",
    )] == [0, 1, 1, 1, 1, 2, 2, 3, 4, 4]  # fmt: skip
    assert agreement_year_bounds(start, 2) == (date(2025, 2, 19), date(2026, 2, 18))
    assert agreement_years(start, date(2028, 2, 18))[-1] == (
        4,
        date(2027, 2, 19),
        date(2028, 2, 18),
    )
    # a 29 February start: each year ends the day before the next begins
    leap = date(2024, 2, 29)
    assert agreement_year_bounds(leap, 1) == (date(2024, 2, 29), date(2025, 2, 27))
    assert agreement_year_bounds(leap, 2) == (date(2025, 2, 28), date(2026, 2, 27))
    assert agreement_year(leap, date(2025, 2, 27)) == 1
    assert agreement_year(leap, date(2025, 2, 28)) == 2
    # an agreement ending mid-year: its last year is cut at the end
    assert agreement_years(start, date(2025, 6, 30)) == [
        (1, date(2024, 2, 19), date(2025, 2, 18)),
        (2, date(2025, 2, 19), date(2025, 6, 30)),
    ]


def test_the_lot_maximum_counts_per_agreement_year_not_per_calendar_year(tmp_path: Path) -> None:
    """The issue's case: orders on 2024-12-20 then 2025-01-10 are in one agreement year."""
    first = lot_groups(1, 5, "g")
    root = write_buyer(tmp_path / "b", first)
    code, output = run(root, "allocate", "--date", "2024-12-20")
    assert code == 0, output
    later = "".join(
        f"- {{id: h{i}, name: H{i}, lot: 1, team: u{i}, sessions: 10, from: 2025-01-01}}\n"
        for i in range(1, 5)
    )
    write_buyer(root, first + later)
    code, output = run(root, "allocate", "--date", "2025-01-10")
    assert code == 4
    assert (
        "lot 1, agreement year 1 (2024-02-19 to 2025-02-18): the order of group h4 to r1 "
        "(10000.00 EUR HT) would bring the committed amount to 90000.00 EUR HT, over the yearly "
        "maximum 80000.00 EUR HT"
    ) in flat(output)
    assert [o["number"] for o in orders(root)][-3:] == [
        "BC-2025-0001",
        "BC-2025-0002",
        "BC-2025-0003",
    ]
    for year in ("1", "2024"):
        code, output = run(root, "lots", "--year", year, "--format", "json")
        lot1 = json.loads(output)["lots"][0]
        assert (lot1["year"], lot1["committed"], lot1["maximum_share"]) == (1, "80000.00", "100.0")
    # agreement year 2 starts again from zero: 8 of the 9 groups fit in 80 000
    code, output = run(root, "allocate", "--date", "2025-02-19")
    assert code == 4
    code, output = run(root, "lots", "--format", "json")
    report = json.loads(output)
    assert [(y["year"], y["committed"]) for y in report["years"]] == [
        (1, "80000.00"),
        (2, "80000.00"),
    ]
    assert report["years"][1]["estimated_share"] == "27.6"  # of the overall 290 000
    code, output = run(root, "lots", "--year", "2")
    assert "Agreement year 2 (2025-02-19 to 2026-02-18): committed 80000.00 EUR HT" in output
    assert "27.6 % of the overall estimate 290000.00, 16.0 % of the overall maximum" in flat(output)
    code, output = run(root, "lots", "--year", "2031")
    assert code == 2 and "--year 2031: not an agreement year" in flat(output)


# --- 2. orders for every year ---------------------------------------------------------------


def test_every_group_gets_its_order_every_agreement_year_without_gap(tmp_path: Path) -> None:
    root = write_buyer(
        tmp_path / "b",
        """\
        - {id: a, name: A, lot: 1, team: t1, sessions: 10}
        - {id: b, name: B, lot: 1, team: t2, sessions: 10}
        - {id: c, name: C, lot: 1, team: t3, sessions: 10, to: 2026-06-30}
        - {id: d, name: D, lot: 1, team: t4, sessions: 8, from: 2025-09-01}
        """,
    )
    for day in ("2024-03-01", "2025-02-19", "2025-09-01"):
        code, output = run(root, "allocate", "--date", day)
        assert code == 0, output
    code, output = run(root, "allocate", "--date", "2026-01-15")
    assert code == 0
    assert (
        "every group active on 2026-01-15 has its order for agreement year 2: 2025-02-19 to "
        "2026-02-18: nothing to allocate"
    ) in flat(output)
    for day in ("2026-02-19", "2027-02-19"):
        code, output = run(root, "allocate", "--date", day)
        assert code == 0, output
    assert [(o["year"], o["from"], o["to"]) for o in by_group(root, "a")] == [
        (1, date(2024, 3, 1), date(2025, 2, 18)),
        (2, date(2025, 2, 19), date(2026, 2, 18)),
        (3, date(2026, 2, 19), date(2027, 2, 18)),
        (4, date(2027, 2, 19), date(2028, 2, 18)),
    ]
    assert [(o["year"], o["from"], o["to"]) for o in by_group(root, "c")][-1] == (
        3,
        date(2026, 2, 19),
        date(2026, 6, 30),
    )
    assert [(o["year"], o["from"]) for o in by_group(root, "d")] == [
        (2, date(2025, 9, 1)),
        (3, date(2026, 2, 19)),
        (4, date(2027, 2, 19)),
    ]
    # the rotation's turn goes on across years: year 1 ended with r3, year 2 starts with r4
    holders = [(o["group"], o["year"], o["holder"]) for o in orders(root)]
    assert holders[:5] == [
        ("a", 1, "r1"),
        ("b", 1, "r2"),
        ("c", 1, "r3"),
        ("a", 2, "r4"),
        ("b", 2, "r1"),
    ]
    # a group that changes holder is said so, in the output and in the order's reason
    code, output = run(root, "allocate", "--date", "2027-03-01", "--dry-run")
    assert code == 0
    assert by_group(root, "a")[1]["reason"].endswith("; previously r1 (BC-2024-0001)")
    # past the four years, nothing more
    code, output = run(root, "allocate", "--date", "2028-02-19")
    assert code == 4 and "outside the agreement's period" in output


def test_holder_changes_are_printed(tmp_path: Path) -> None:
    root = write_buyer(tmp_path / "b", "- {id: a, name: A, lot: 1, team: t1, sessions: 10}\n")
    assert run(root, "allocate", "--date", "2024-03-01")[0] == 0
    code, output = run(root, "allocate", "--date", "2025-02-19")
    assert code == 0, output
    assert (
        "a changes holder: r1 (BC-2024-0001, agreement year 1) -> r2 (BC-2025-0001, "
        "agreement year 2)"
    ) in flat(output)


# --- 3. allocation you can audit -----------------------------------------------------------


def test_numbers_and_dates_never_go_backwards(tmp_path: Path) -> None:
    root = write_buyer(tmp_path / "b", lot_groups(2, 2, "p"))
    assert run(root, "allocate", "--date", "2025-01-10")[0] == 0
    path = root / "records" / "orders.yaml"
    before = path.read_bytes()
    write_buyer(root, lot_groups(2, 3, "p"))
    code, output = run(root, "allocate", "--date", "2025-01-02")
    assert code == 4
    assert (
        "2025-01-02 is before the latest date recorded (2025-01-10, order BC-2025-0002): the "
        "record's dates never go backwards"
    ) in flat(output)
    assert path.read_bytes() == before
    code, output = run(root, "decline", "BC-2025-0001", "--date", "2025-01-05")
    assert code == 4 and path.read_bytes() == before
    # a hand edit that makes a number go backwards is reported with its line
    text = before.decode()
    path.write_text(
        text.replace("BC-2025-0001", "BC-2025-XXXX")
        .replace("BC-2025-0002", "BC-2025-0001")
        .replace("BC-2025-XXXX", "BC-2025-0002"),
        encoding="utf-8",
    )
    code, output = run(root, "check")
    assert code == 2
    assert (
        "orders[1].number: BC-2025-0001 comes after BC-2025-0002: numbers never go backwards"
        in (output)
    )


def test_every_offer_decline_and_new_offer_is_in_the_history(tmp_path: Path) -> None:
    root = write_buyer(tmp_path / "b", lot_groups(2, 1, "p"))
    assert run(root, "allocate", "--date", "2025-03-03")[0] == 0
    code, output = run(
        root, "decline", "BC-2025-0001", "--date", "2025-03-10", "--reason", "pas de créneau"
    )
    assert code == 0, output
    (order,) = orders(root)
    assert (order["holder"], order["date"], order["status"]) == ("c2", date(2025, 3, 10), "passed")
    assert [(e["date"], e["action"], e.get("holder")) for e in order["history"]] == [
        (date(2025, 3, 3), "offered", "c1"),
        (date(2025, 3, 10), "declined", "c1"),
        (date(2025, 3, 10), "offered", "c2"),
    ]
    code, output = run(root, "order-history", "BC-2025-0001")
    assert code == 0
    lines = flat(output)
    assert "BC-2025-0001: lot 2, group p1, agreement year 2 (2025-03-03 to 2026-02-18)" in lines
    assert re.search(r"2025-03-10\s+declined\s+c1\s+pas de créneau", lines)
    code, output = run(root, "order-history", "BC-2025-0001", "--format", "json")
    history = json.loads(output)["history"]
    assert [e["action"] for e in history] == ["offered", "declined", "offered"]
    code, output = run(root, "order-history", "BC-2025-0099")
    assert code == 2 and "unknown order 'BC-2025-0099'" in output


def test_a_declined_order_of_a_past_year_lapses_and_the_new_one_counts_in_its_year(
    tmp_path: Path,
) -> None:
    one = LOT1_HOLDERS.splitlines(keepends=True)[0]
    root = write_buyer(
        tmp_path / "b",
        "- {id: a, name: A, lot: 1, team: t1, sessions: 10}\n",
        deliberation(lot1=one).replace(
            "holders_per_lot: 4\n    holders:\n      - {rank: 1, id: r1",
            "holders:\n      - {rank: 1, id: r1",
            1,
        ),
    )
    assert run(root, "allocate", "--date", "2025-01-10")[0] == 0
    code, output = run(root, "decline", "BC-2025-0001", "--date", "2025-01-20")
    assert code == 4 and "stays declined and unassigned" in output
    code, output = run(root, "allocate", "--date", "2025-02-01")
    assert code == 4 and "BC-2025-0001 (a) stays unassigned" in flat(output)
    code, output = run(root, "allocate", "--date", "2025-03-01")
    assert code == 0, output  # r1 declined the lapsed order, not the new one: it takes it
    assert "lapsed: BC-2025-0001 (a), agreement year 1 ended without a holder" in output
    old, new = by_group(root, "a")
    assert (old["status"], old["history"][-1]["action"]) == ("lapsed", "lapsed")
    assert (new["year"], new["from"], new["holder"]) == (2, date(2025, 2, 19), "r1")


def test_orders_written_by_the_previous_version_still_load(tmp_path: Path) -> None:
    root = write_buyer(tmp_path / "b", lot_groups(2, 2, "p"))
    (root / "records").mkdir()
    (root / "records" / "orders.yaml").write_text(
        """\
orders:
- number: BC-2025-0001
  lot: 2
  group: p1
  date: 2025-03-03
  sessions: 10
  status: passed
  holder: c2
  unit_price: '470.00'
  amount: '4700.00'
  reason: 'declined by c1 on 2025-03-05; cascade: c1 skipped (declined this order),
    c2 (rank 2) takes it'
  declines:
  - date: 2025-03-05
    holder: c1
    reason: no availability
- number: BC-2025-0002
  lot: 2
  group: p2
  date: 2025-03-03
  sessions: 10
  status: assigned
  holder: c3
  unit_price: '430.00'
  amount: '4300.00'
  reason: 'cascade: c1 skipped (at capacity 1/1), c2 skipped (at capacity 2/2),
    c3 (rank 3) takes it'
""",
        encoding="utf-8",
    )
    code, output = run(root, "check")
    assert code == 0, output
    assert "written by an earlier version" in flat(output)
    code, output = run(root, "order-history", "BC-2025-0001", "--format", "json")
    assert [(e["date"], e["action"], e["holder"]) for e in json.loads(output)["history"]] == [
        ("2025-03-03", "offered", "c1"),
        ("2025-03-05", "declined", "c1"),
        ("2025-03-05", "offered", "c2"),
    ]
    code, output = run(root, "lots", "--format", "json")
    assert json.loads(output)["lots"][1]["committed"] == "9000.00"
    code, output = run(root, "allocate", "--date", "2026-02-19")
    assert code == 0, output
    assert all("history" in o and "declines" not in o for o in orders(root))
    assert (orders(root)[0]["year"], orders(root)[0]["to"]) == (2, date(2026, 2, 18))


def test_orders_of_the_previous_version_over_a_ceiling_load_with_a_warning(
    tmp_path: Path,
) -> None:
    """The previous version counted calendar years: its record may pass a yearly maximum."""
    root = write_buyer(tmp_path / "b", lot_groups(2, 2, "p"))
    (root / "records").mkdir()
    entries = "".join(
        f"""\
- number: BC-{year}-0001
  lot: 2
  group: p{index}
  date: {year}-{month}
  sessions: 10
  status: assigned
  holder: c{index}
  unit_price: '7000.00'
  amount: '70000.00'
  reason: 'cascade'
"""
        for index, year, month in ((1, 2025, "12-20"), (2, 2026, "01-10"))
    )
    (root / "records" / "orders.yaml").write_text("orders:\n" + entries, encoding="utf-8")
    code, output = run(root, "check")
    assert code == 0, output
    assert (
        "lot 2, agreement year 2 (2025-02-19 to 2026-02-18): the orders recorded commit "
        "140000.00 EUR HT, over the yearly maximum 120000.00 EUR HT: no new order fits this year"
    ) in flat(output)
    write_buyer(root, lot_groups(2, 3, "p"))
    code, output = run(root, "allocate", "--date", "2026-01-12")
    assert code == 4 and "would bring the committed amount to 144700.00 EUR HT" in flat(output)


# --- 4. partial allocation -----------------------------------------------------------------


def test_the_deliberations_27_groups_of_lot_3_are_allocated_as_far_as_capacity_goes(
    tmp_path: Path,
) -> None:
    root = write_buyer(tmp_path / "b", lot_groups(3, 27, "e") + lot_groups(2, 1, "p"))
    code, output = run(root, "allocate", "--date", "2024-03-01", "--all-or-nothing")
    assert code == 4 and not (root / "records").exists()
    code, output = run(root, "allocate", "--date", "2024-03-01")
    assert code == 4
    assert len([o for o in orders(root) if o["lot"] == 3]) == 23  # 2+4+3+3+4+2+2+3
    assert [o["group"] for o in orders(root) if o["lot"] == 2] == ["p1"]
    text = flat(output)
    assert "error: 4 group(s) without an order" not in text  # each is named instead
    for name in ("e24", "e25", "e26", "e27"):
        assert f"lot 3: no holder can take group {name} (Groupe {name})" in text
    assert "e1 at capacity 2/2" in text


def test_allocate_only_one_lot_or_one_group(tmp_path: Path) -> None:
    root = write_buyer(tmp_path / "b", lot_groups(1, 2, "g") + lot_groups(2, 2, "p"))
    code, output = run(root, "allocate", "--date", "2024-03-01", "--lot", "2")
    assert code == 0, output
    assert [o["group"] for o in orders(root)] == ["p1", "p2"]
    code, output = run(root, "allocate", "--date", "2024-03-01", "--group", "g2")
    assert code == 0, output
    assert [o["group"] for o in orders(root)] == ["p1", "p2", "g2"]
    code, output = run(root, "allocate", "--date", "2024-03-01", "--lot", "9")
    assert code == 2 and "unknown lot 9 (known: 1, 2, 3)" in output
    code, output = run(root, "allocate", "--date", "2024-03-01", "--group", "zz")
    assert code == 2 and "unknown group 'zz'" in output
    code, output = run(root, "allocate", "--date", "2024-03-01", "--lot", "2", "--group", "g1")
    assert code == 2 and "group 'g1' belongs to lot 1, not lot 2" in output


# --- 5. the cascade as a cascade -----------------------------------------------------------


def test_cascade_asks_in_rank_order_and_goes_down_after_a_decline(tmp_path: Path) -> None:
    root = write_buyer(
        tmp_path / "b",
        """\
        - {id: p1, name: P1, lot: 2, sessions: 6, to: 2024-06-30}
        - {id: p2, name: P2, lot: 2, sessions: 6}
        """,
    )
    assert run(root, "allocate", "--date", "2024-03-01")[0] == 0
    p1, p2 = orders(root)
    assert p1["holder"] == "c1"
    # c1 at capacity is asked first and recorded as skipped, with the reason
    first = p2["history"][0]
    assert (first["action"], first["holder"], first.get("reason")) == (
        "skipped",
        "c1",
        "at capacity 1/1",
    )
    assert p2["holder"] == "c2"
    # p1 ended: c1 is free again; c2 declines p2: the cascade goes on to c3, not back to c1
    code, output = run(root, "decline", "BC-2024-0002", "--date", "2024-07-15")
    assert code == 0, output
    assert by_group(root, "p2")[0]["holder"] == "c3"
    assert run(root, "decline", "BC-2024-0002", "--date", "2024-07-16")[0] == 0
    assert by_group(root, "p2")[0]["holder"] == "c4"
    code, output = run(root, "decline", "BC-2024-0002", "--date", "2024-07-17")
    assert code == 4 and "no holder is ranked below it" in flat(output)
    # a new round from rank 1: every holder who declined it stays excluded, c1 takes it
    code, output = run(root, "allocate", "--date", "2024-07-18")
    assert code == 0, output
    order = by_group(root, "p2")[0]
    assert (order["holder"], order["date"]) == ("c1", date(2024, 7, 18))
    assert [e["action"] for e in order["history"]] == [
        "skipped",
        "offered",
        "declined",
        "offered",
        "declined",
        "offered",
        "declined",
        "unassigned",
        "offered",
    ]


# --- 6. checks ----------------------------------------------------------------------------


def test_check_works_on_a_buyer_workspace(tmp_path: Path) -> None:
    root = write_buyer(tmp_path / "b", lot_groups(2, 2, "p"))
    code, output = run(root, "check")
    assert code == 0 and "ok: 1 file(s) checked, no problem found" in output
    assert run(root, "allocate", "--date", "2024-03-01")[0] == 0
    code, output = run(root, "check")
    assert code == 0 and "ok: 2 file(s) checked, no problem found" in output
    path = root / "records" / "orders.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("amount: '4500.00'", "amount: '4501.00'"),
        encoding="utf-8",
    )
    code, output = run(root, "check")
    assert code == 2
    assert "records/orders.yaml:16: orders[0].amount: 4501.00 is not 10 x 450.00" in output
    (root / "buyer.yaml").write_text(
        deliberation().replace(
            "  budget_line: 11/0201/6184", "  budget_line: 11/0201/6184\n  x: 1"
        ),
        encoding="utf-8",
    )
    code, output = run(root, "check")
    assert code == 2 and "buyer.yaml:16: agreement.x: unknown key" in output


def test_holders_per_lot_fewer_warns_more_is_refused(tmp_path: Path) -> None:
    six = "".join(LOT3_HOLDERS.splitlines(keepends=True)[:6])
    one = "- {id: p1, name: P1, lot: 2, sessions: 4}\n"
    root = write_buyer(tmp_path / "b", one, deliberation(lot3=six))
    code, output = run(root, "check")
    assert code == 0, output
    assert (
        "warning: lot 3: 6 holder(s) where the agreement provides 8 (holders_per_lot): fewer "
        "offers were received"
    ) in flat(output)
    code, output = run(root, "lots")
    assert "lot 3: 6 holder(s) where the agreement provides 8" in flat(output)
    five = LOT1_HOLDERS + "      - {rank: 5, id: r5, name: Rotation Cinq, capacity: 3, price: 1}\n"
    write_buyer(root, one, deliberation(lot1=five))
    code, output = run(root, "check")
    assert code == 2
    assert "buyer.yaml:23: lots[0].holders: 5 holders, the agreement provides 4 for lot 1" in (
        output
    )
    # the numbers may also be given once for the agreement
    head = deliberation(lot3=six, lot3_holders="").replace(
        "  budget_line: 11/0201/6184", "  budget_line: 11/0201/6184\n  holders_per_lot: {3: 8}"
    )
    write_buyer(root, one, head)
    code, output = run(root, "check")
    assert code == 0 and "lot 3: 6 holder(s) where the agreement provides 8" in flat(output)
    write_buyer(root, one, head.replace("{3: 8}", "{3: 8, 7: 2}"))
    code, output = run(root, "check")
    assert code == 2 and "agreement.holders_per_lot[7]: unknown lot 7" in output
    write_buyer(root, one, head.replace("{3: 8}", "{1: 3}"))
    code, output = run(root, "check")
    assert code == 2 and "lots[0].holders_per_lot: 4, but agreement.holders_per_lot gives 3" in (
        output
    )


def test_the_overall_yearly_maximum_holds_every_lot_together(tmp_path: Path) -> None:
    # another agreement: an overall maximum (150 000) below the lots' maxima added up
    head = (
        deliberation(overall_maximum=150000)
        .replace("maximum_yearly: 300000\n", "maximum_yearly: 150000\n")
        .replace("estimated_yearly: 290000", "estimated_yearly: 140000")
        .replace("estimated_yearly: 180000", "estimated_yearly: 100000")
    )
    root = write_buyer(tmp_path / "b", lot_groups(1, 8, "g") + lot_groups(3, 23, "e"), head)
    code, output = run(root, "allocate", "--date", "2024-03-01")
    assert code == 4
    # lot 1: 8 orders of 10 000; lot 3: 21 orders of 3 200 fit, the 22nd would pass 150 000
    assert (
        "buyer.yaml:84: groups[29]: all lots, agreement year 1 (2024-02-19 to 2025-02-18): the "
        "order of group e22 to e8 (3200.00 EUR HT) would bring the committed amount to "
        "150400.00 EUR HT, over the yearly maximum 150000.00 EUR HT"
    ) in flat(output)
    assert sum(float(o["amount"]) for o in orders(root)) == 147200
    code, output = run(root, "check")
    assert code == 0
    assert (
        "the lots' yearly maxima add up to 350000.00 EUR HT, over the agreement's overall "
        "yearly maximum 150000.00 EUR HT"
    ) in flat(output)
    write_buyer(
        root, lot_groups(1, 8, "g"), head.replace("maximum_yearly: 80000", "maximum_yearly: 160000")
    )
    code, output = run(root, "check")
    assert code == 2
    assert "lots[0].maximum_yearly: 160000.00 is over the agreement's overall yearly maximum" in (
        output
    )


def test_a_decline_after_the_agreements_end_is_recorded_with_a_warning(tmp_path: Path) -> None:
    root = write_buyer(tmp_path / "b", lot_groups(2, 1, "p"), deliberation(renewal=False))
    assert run(root, "allocate", "--date", "2025-03-01")[0] == 0
    code, output = run(root, "decline", "BC-2025-0001", "--date", "2026-03-01", "--reason", "fin")
    assert code == 0, output
    assert (
        "warning: order BC-2025-0001: declined by c1 on 2026-03-01; the agreement ended on "
        "2026-02-18: the order is not passed on"
    ) in flat(output)
    (order,) = orders(root)
    assert order["status"] == "declined" and "holder" not in order
    assert [(e["action"], e["date"]) for e in order["history"]][-2:] == [
        ("declined", date(2026, 3, 1)),
        ("unassigned", date(2026, 3, 1)),
    ]
    code, output = run(root, "check")
    assert code == 0
    assert "declined by c1 on 2026-03-01, after the agreement's end (2026-02-18)" in flat(output)


# --- 7. the order form and the export ------------------------------------------------------


@pytest.fixture
def issued(tmp_path: Path) -> Path:
    root = write_buyer(
        tmp_path / "b",
        "- {id: psy, name: Psychologues <Rennes>, lot: 2, sessions: 8}\n"
        "- {id: cadres, name: Cadres de Rennes, lot: 1, team: rennes, sessions: 10}\n",
    )
    code, output = run(root, "allocate", "--date", "2025-03-03")
    assert code == 0, output
    return root


def test_the_order_form_in_french(issued: Path) -> None:
    code, output = run(issued, "order-form", "BC-2025-0001")
    assert code == 0, output
    check_golden("order-form-BC-2025-0001.md", output)
    for text in (
        "# Bon de commande N° BC-2025-0001",
        "**Acheteur :** Département d'Ille-et-Vilaine — 1 avenue de la Préfecture",
        "**Titulaire :** Cascade Un — SIRET : 81234560100007",
        "**Accord-cadre :** AC-2024-APP",
        "Lot 2 — Supervision des fonctions spécifiques (bons de commande attribués en cascade)",
        f"| 8 | {euros(Decimal('450'))} | {euros(Decimal('3600'))} |",
        "Période d'exécution : du lundi 3 mars 2025 au mercredi 18 février 2026",
        "Imputation budgétaire : 11/0201/6184",
        "Fait à Rennes, le lundi 3 mars 2025",
    ):
        assert text in output, text
    code, html = run(issued, "order-form", "BC-2025-0001", "--format", "html")
    assert code == 0 and "Psychologues &lt;Rennes&gt;" in html and "<Rennes>" not in html


def test_the_order_form_as_pdf_goes_to_the_current_folder(
    issued: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    code, output = run(issued, "order-form", "BC-2025-0002", "--format", "pdf")
    assert code == 0, output
    path = out / "bon-de-commande-BC-2025-0002-r1.pdf"
    assert f"BC-2025-0002: order form written to {path}" in flat(output)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    code, output = run(issued, "order-form", "BC-2025-0002", "--format", "pdf")
    assert code == 0 and "already written, unchanged" in output
    assert path.read_bytes() == data  # the same record gives the same bytes
    code, output = run(issued, "order-form", "BC-2025-0002", "-f", "md", "--output", str(out))
    assert code == 0 and (out / "bon-de-commande-BC-2025-0002-r1.md").exists()
    # an order form sent is never replaced by a different one
    (issued / "buyer.yaml").write_text(
        (issued / "buyer.yaml").read_text(encoding="utf-8").replace("par délégation", "p.o."),
        encoding="utf-8",
    )
    code, output = run(issued, "order-form", "BC-2025-0002", "-f", "md", "--output", str(out))
    assert code == 4 and "exists and differs" in output


def test_no_order_form_for_an_order_without_holder(issued: Path) -> None:
    for day in ("2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07"):
        run(issued, "decline", "BC-2025-0001", "--date", day)
    code, output = run(issued, "order-form", "BC-2025-0001")
    assert code == 4 and "has no holder (declined)" in output


def test_orders_export_for_the_finance_system(issued: Path) -> None:
    code, output = run(issued, "orders-export", "--format", "csv")
    assert code == 0, output
    rows = list(csv.DictReader(io.StringIO(output)))
    assert [
        (r["commitment_number"], r["lot"], r["holder"], r["amount_ht"], r["budget_line"])
        for r in rows
    ] == [
        ("BC-2025-0001", "2", "c1", "3600.00", "11/0201/6184"),
        ("BC-2025-0002", "1", "r1", "10000.00", "11/0201/6184"),
    ]
    assert rows[0]["agreement_year"] == "2" and rows[0]["unit_price_ht"] == "450.00"
    code, output = run(issued, "orders-export", "--format", "csv", "--year", "1")
    assert code == 0 and output.splitlines()[1:] == []
    code, output = run(issued, "orders-export", "--format", "xlsx")
    assert code == 2
