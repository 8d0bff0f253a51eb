"""Framework agreements, the buyer side: buyer.yaml, apptool allocate / decline / lots."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from apptool.cli import app
from conftest import safe_load, write_workspace

runner = CliRunner()

HEAD = """\
buyer: {name: Département de Test, siret: "22350000000003"}
agreement:
  reference: TEST-AC
  start: 2024-02-19
  end: 2026-02-18
  renewal_end: 2028-02-18
  renewal_recorded: false
lots:
  - number: 1
    title: Cadres
    allocation: rotation
    estimated_yearly: 50000
    maximum_yearly: 80000
    holders:
      - {rank: 1, id: h1, name: Holder One, capacity: 5, price: 600}
      - {rank: 2, id: h2, name: Holder Two, capacity: 5, price: 500}
      - {rank: 3, id: h3, name: Holder Three, capacity: 5, price: 700}
  - number: 2
    title: Supervision
    allocation: cascade
    estimated_yearly: 1000
    maximum_yearly: 2000
    holders:
      - {rank: 1, id: c1, name: Cascade One, capacity: 1, price: 100}
      - {rank: 2, id: c2, name: Cascade Two, capacity: 1, price: 100}
      - {rank: 3, id: c3, name: Cascade Three, capacity: 2, price: 100}
groups:
"""


def write_buyer(root: Path, groups: str, head: str = HEAD) -> Path:
    """Write buyer.yaml: ``head`` then the groups, one ``- {...}`` a line (any indentation)."""
    root.mkdir(parents=True, exist_ok=True)
    items = "".join(f"  {line.strip()}\n" for line in groups.splitlines() if line.strip())
    (root / "buyer.yaml").write_text(head + items, encoding="utf-8")
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["-w", str(root), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def orders(root: Path) -> list[dict[str, Any]]:
    path = root / "records" / "orders.yaml"
    if not path.exists():
        return []
    return list(safe_load(path.read_text(encoding="utf-8"))["orders"])


def holders(root: Path) -> dict[str, object]:
    return {str(o["group"]): o.get("holder") for o in orders(root)}


# --- rotation -------------------------------------------------------------------------------


def test_rotation_continues_after_the_last_order_across_runs(tmp_path: Path) -> None:
    root = write_buyer(
        tmp_path / "b",
        """\
        - {id: g1, name: G1, lot: 1, team: t1, sessions: 10}
        - {id: g2, name: G2, lot: 1, team: t2, sessions: 10}
        - {id: g3, name: G3, lot: 1, team: t3, sessions: 10, from: 2025-06-01}
        - {id: g4, name: G4, lot: 1, team: t4, sessions: 10, from: 2025-06-01}
        - {id: g5, name: G5, lot: 1, team: t5, sessions: 10, from: 2025-09-01}
        """,
    )
    code, output = run(root, "allocate", "--date", "2025-03-03")
    assert code == 0, output
    assert "not allocated: g3 (starts on 2025-06-01)" in output
    assert holders(root) == {"g1": "h1", "g2": "h2"}
    code, output = run(root, "allocate", "--date", "2025-06-02")
    assert code == 0, output
    assert holders(root) == {"g1": "h1", "g2": "h2", "g3": "h3", "g4": "h1"}
    code, output = run(root, "allocate", "--date", "2025-09-01")
    assert code == 0, output
    assert holders(root)["g5"] == "h2"
    records = orders(root)
    assert [o["number"] for o in records] == [f"BC-2025-{n:04d}" for n in range(1, 6)]
    assert records[0]["reason"] == "rotation: first order of lot 1, h1 (rank 1) takes it"
    assert records[2]["reason"] == "rotation: after h2, h3 (rank 3) takes it"
    assert records[4]["reason"] == "rotation: after h1, h2 (rank 2) takes it"
    assert records[1]["amount"] == "5000.00" and records[1]["unit_price"] == "500.00"
    code, output = run(root, "allocate", "--date", "2025-09-02")
    assert code == 0 and "nothing to allocate" in output


def test_rotation_skips_a_holder_serving_the_same_team(tmp_path: Path) -> None:
    root = write_buyer(
        tmp_path / "b",
        """\
        - {id: g1, name: G1, lot: 1, team: nord, sessions: 10}
        - {id: g2, name: G2, lot: 1, team: sud, sessions: 10}
        - {id: g3, name: G3, lot: 1, team: sud, sessions: 10}
        - {id: g4, name: G4, lot: 1, team: nord, sessions: 10}
        """,
    )
    code, output = run(root, "allocate", "--date", "2025-03-03", "--dry-run")
    assert code == 0, output
    assert "dry run: nothing written" in output and not (root / "records").exists()
    code, output = run(root, "allocate", "--date", "2025-03-03")
    assert code == 0, output
    # g3 (sud): after h2, h3 is free; g4 (nord): after h3, h1 serves nord via g1 -> h2
    assert holders(root) == {"g1": "h1", "g2": "h2", "g3": "h3", "g4": "h2"}
    assert orders(root)[3]["reason"] == (
        "rotation: after h3, h1 skipped (serves team nord via g1), h2 (rank 2) takes it"
    )


def test_a_group_nobody_can_take_is_reported_while_the_others_are_allocated(
    tmp_path: Path,
) -> None:
    groups = """\
        - {id: g1, name: G1, lot: 1, team: nord, sessions: 10}
        - {id: g2, name: G2, lot: 1, team: nord, sessions: 10}
        - {id: g3, name: G3, lot: 1, team: nord, sessions: 10}
        """
    root = write_buyer(tmp_path / "b", groups)
    assert run(root, "allocate", "--date", "2025-03-03")[0] == 0
    path = root / "records" / "orders.yaml"
    before = path.read_bytes()
    # one group nobody can take, then one that can be served
    write_buyer(
        root,
        groups
        + """\
        - {id: g5, name: Cadres nord bis, lot: 1, team: nord, sessions: 10}
        - {id: g4, name: G4, lot: 1, team: sud, sessions: 10}
        """,
    )
    code, output = run(root, "allocate", "--date", "2025-04-01", "--all-or-nothing")
    assert code == 4
    message = " ".join(output.split())
    assert "buyer.yaml:31: groups[3]: lot 1: no holder can take group g5 (Cadres nord bis)" in (
        message
    )
    for why in (
        "h1 serves team nord via g1",
        "h2 serves team nord via g2",
        "h3 serves team nord via g3",
        "nothing was assigned",
    ):
        assert why in message
    assert path.read_bytes() == before
    # without --all-or-nothing: g4 gets its order, g5 is reported, exit 4 at the end
    code, output = run(root, "allocate", "--date", "2025-04-01")
    assert code == 4
    message = " ".join(output.split())
    assert "1 order(s) issued, 0 offered again: written to" in message
    assert "error: buyer.yaml:31: groups[3]: lot 1: no holder can take group g5" in message
    assert holders(root) == {"g1": "h1", "g2": "h2", "g3": "h3", "g4": "h1"}


def test_rotation_decline_passes_to_the_next_in_turn(tmp_path: Path) -> None:
    root = write_buyer(
        tmp_path / "b",
        """\
        - {id: g1, name: G1, lot: 1, team: nord, sessions: 10}
        - {id: g2, name: G2, lot: 1, team: sud, sessions: 10}
        - {id: g3, name: G3, lot: 1, team: sud, sessions: 10}
        """,
    )
    assert run(root, "allocate", "--date", "2025-03-03")[0] == 0
    assert holders(root) == {"g1": "h1", "g2": "h2", "g3": "h3"}
    # h1 declines g1: next in turn after h1 is h2 (serves sud, not nord)
    code, output = run(
        root, "decline", "BC-2025-0001", "--date", "2025-03-10", "--reason", "no availability"
    )
    assert code == 0, output
    order = orders(root)[0]
    assert (order["status"], order["holder"], order["amount"]) == ("passed", "h2", "5000.00")
    assert order["date"] == date(2025, 3, 10)  # the date of its new offer
    assert [(e["date"], e["action"], e["holder"]) for e in order["history"]] == [
        (date(2025, 3, 3), "offered", "h1"),
        (date(2025, 3, 10), "declined", "h1"),
        (date(2025, 3, 10), "offered", "h2"),
    ]
    assert order["history"][1]["reason"] == "no availability"
    assert order["reason"] == (
        "declined by h1 on 2025-03-10; rotation: after h1, h2 (rank 2) takes it"
    )
    # h3 declines g3 (sud): next in turn after h3 is h1, who serves no sud group
    code, output = run(root, "decline", "BC-2025-0003", "--date", "2025-03-11")
    assert code == 0, output
    assert holders(root)["g3"] == "h1"


# --- cascade --------------------------------------------------------------------------------


def test_cascade_with_capacity_and_declines(tmp_path: Path) -> None:
    groups = """\
        - {id: p1, name: P1, lot: 2, sessions: 2}
        - {id: p2, name: P2, lot: 2, sessions: 2}
        """
    root = write_buyer(tmp_path / "b", groups)
    code, output = run(root, "allocate", "--date", "2025-03-03")
    assert code == 0, output
    assert holders(root) == {"p1": "c1", "p2": "c2"}
    assert orders(root)[1]["reason"] == (
        "cascade: c1 skipped (at capacity 1/1), c2 (rank 2) takes it"
    )
    # c1 declines p1: the cascade goes on down, c2 is at capacity (skipped), c3 takes it
    code, output = run(root, "decline", "BC-2025-0001", "--date", "2025-03-05")
    assert code == 0, output
    assert "passed to c3" in output
    assert holders(root)["p1"] == "c3"
    assert [(e["action"], e["holder"], e.get("reason")) for e in orders(root)[0]["history"]][
        -2:
    ] == [
        ("skipped", "c2", "at capacity 1/1"),
        (
            "offered",
            "c3",
            "cascade after c1 (rank 1): c2 skipped (at capacity 1/1), c3 (rank 3) takes it",
        ),
    ]
    # c3 declines too: nobody is ranked below it
    code, output = run(root, "decline", "BC-2025-0001", "--date", "2025-03-06")
    assert code == 4
    message = " ".join(output.split())
    assert (
        "order BC-2025-0001 (p1) stays declined and unassigned: cascade after c3 (rank 3): "
        "no holder is ranked below it"
    ) in message
    order = orders(root)[0]
    assert order["status"] == "declined" and "holder" not in order and "amount" not in order
    assert [e["holder"] for e in order["history"] if e["action"] == "declined"] == ["c1", "c3"]
    # a declined order has no holder to decline it again
    code, output = run(root, "decline", "BC-2025-0001", "--date", "2025-03-07")
    assert code == 4 and "has no holder" in output
    # allocate offers it again (c1, c3 declined; c2 full): reported, exit 4, not "nothing to do"
    code, output = run(root, "allocate", "--date", "2025-03-07")
    assert code == 4 and "order BC-2025-0001 (p1) stays unassigned" in " ".join(output.split())
    assert "nothing to allocate" not in output
    # c2 can now take two groups: the next allocate passes it to c2
    write_buyer(
        root,
        groups,
        HEAD.replace(
            "id: c2, name: Cascade Two, capacity: 1", "id: c2, name: Cascade Two, capacity: 2"
        ),
    )
    code, output = run(root, "allocate", "--date", "2025-03-08")
    assert code == 0, output
    order = orders(root)[0]
    assert (order["status"], order["holder"], order["date"]) == (
        "passed",
        "c2",
        date(2025, 3, 8),
    )
    assert str(order["reason"]).startswith(
        "offered again on 2025-03-08: cascade: c1 skipped "
        "(declined this order), c2 (rank 2) takes it"
    )


def test_decline_of_an_unknown_order_is_an_error(tmp_path: Path) -> None:
    root = write_buyer(tmp_path / "b", "- {id: p1, name: P1, lot: 2, sessions: 2}\n")
    assert run(root, "allocate", "--date", "2025-03-03")[0] == 0
    code, output = run(root, "decline", "BC-2025-0099", "--date", "2025-03-04")
    assert code == 2 and "unknown order 'BC-2025-0099'" in output
    code, output = run(root, "decline", "BC-2025-0001", "--date", "2025-03-01")
    assert code == 4 and "before the order's date 2025-03-03" in output


# --- amounts and period ---------------------------------------------------------------------


def test_lot_maximum_refuses_and_estimate_warns(tmp_path: Path) -> None:
    groups = """\
        - {id: p1, name: P1, lot: 2, sessions: 8}
        - {id: p2, name: P2, lot: 2, sessions: 8}
        """
    head = HEAD.replace("capacity: 1, price: 100", "capacity: 3, price: 100").replace(
        "renewal_recorded: false", "renewal_recorded: true"
    )
    root = write_buyer(tmp_path / "b", groups, head)
    code, output = run(root, "allocate", "--date", "2025-03-03")
    assert code == 0, output
    assert (
        "warning: lot 2, agreement year 2 (2025-02-19 to 2026-02-18): committed 1600.00 EUR "
        "HT is past the yearly estimate 1000.00 EUR HT (160.0 %); maximum 2000.00 EUR HT"
    ) in " ".join(output.split())
    write_buyer(
        root,
        groups + "- {id: p3, name: P3, lot: 2, sessions: 2}\n"
        "- {id: p4, name: P4, lot: 2, sessions: 3}\n",
        head,
    )
    code, output = run(root, "allocate", "--date", "2026-01-05")
    assert code == 4
    assert (
        "lot 2, agreement year 2 (2025-02-19 to 2026-02-18): the order of group p4 to c2 "
        "(300.00 EUR HT) would bring the committed amount to 2100.00 EUR HT, over the yearly "
        "maximum 2000.00 EUR HT"
    ) in " ".join(output.split())
    assert [o["group"] for o in orders(root)] == ["p1", "p2", "p3"]  # p3 fits, p4 does not
    # the yearly maximum is per agreement year: from 2026-02-19 (year 3) it starts again
    code, output = run(root, "allocate", "--date", "2026-02-19")
    assert code == 4
    assert [(o["number"], o["group"], o["year"]) for o in orders(root)][-3:] == [
        ("BC-2026-0002", "p1", 3),
        ("BC-2026-0003", "p2", 3),
        ("BC-2026-0004", "p3", 3),
    ]
    assert "agreement year 3 (2026-02-19 to 2027-02-18): the order of group p4" in output


@pytest.mark.parametrize(
    ("day", "recorded", "code"),
    [
        ("2024-02-18", False, 4),
        ("2024-02-19", False, 0),
        ("2026-02-18", False, 0),
        ("2026-02-19", False, 4),
        ("2026-02-19", True, 0),
        ("2028-02-18", True, 0),
        ("2028-02-19", True, 4),
    ],
)
def test_agreement_period_and_recorded_renewal(
    tmp_path: Path, day: str, recorded: bool, code: int
) -> None:
    head = HEAD.replace("renewal_recorded: false", f"renewal_recorded: {str(recorded).lower()}")
    root = write_buyer(tmp_path / "b", "- {id: p1, name: P1, lot: 2, sessions: 2}\n", head)
    got, output = run(root, "allocate", "--date", day)
    assert got == code, output
    if code == 4:
        assert f"no order can be issued: {day} is outside the agreement's period" in output
        assert not (root / "records").exists()
    if day == "2026-02-19" and not recorded:
        assert "the renewal up to 2028-02-18 is not recorded" in " ".join(output.split())


# --- lots report ----------------------------------------------------------------------------


def test_lots_report_figures(tmp_path: Path) -> None:
    root = write_buyer(
        tmp_path / "b",
        """\
        - {id: g1, name: G1, lot: 1, team: t1, sessions: 10}
        - {id: g2, name: G2, lot: 1, team: t2, sessions: 10}
        - {id: g3, name: G3, lot: 1, team: t3, sessions: 10}
        - {id: g4, name: G4, lot: 1, team: t4, sessions: 5}
        - {id: p1, name: P1, lot: 2, sessions: 4}
        """,
    )
    assert run(root, "allocate", "--date", "2025-03-03")[0] == 0
    assert run(root, "decline", "BC-2025-0005", "--date", "2025-03-04")[0] == 0
    code, output = run(root, "lots", "--format", "json")
    assert code == 0, output
    lot1, lot2 = json.loads(output)["lots"]
    assert (lot1["year"], lot1["from"], lot1["to"]) == (2, "2025-02-19", "2026-02-18")
    assert (lot1["orders"], lot1["committed"]) == (4, "21000.00")
    assert (lot1["estimated_share"], lot1["maximum_share"]) == ("42.0", "26.3")
    assert [(h["id"], h["orders"], h["sessions"], h["amount"]) for h in lot1["holders"]] == [
        ("h1", 2, 15, "9000.00"),
        ("h2", 1, 10, "5000.00"),
        ("h3", 1, 10, "7000.00"),
    ]
    assert (lot2["orders"], lot2["committed"], lot2["maximum_share"]) == (1, "400.00", "20.0")
    assert [(h["id"], h["orders"], h["declines"]) for h in lot2["holders"]] == [
        ("c1", 0, 1),
        ("c2", 1, 0),
        ("c3", 0, 0),
    ]
    code, output = run(root, "lots", "--year", "2025")
    assert code == 0, output
    assert "Lot 1 (rotation), agreement year 2: Cadres" in output
    assert (
        "4 order(s), committed 21000.00 EUR HT: 42.0 % of the estimate 50000.00, "
        "26.3 % of the maximum 80000.00"
    ) in output
    code, output = run(root, "lots", "--year", "2024", "--format", "json")
    assert json.loads(output)["lots"][0]["year"] == 1
    assert json.loads(output)["lots"][0]["orders"] == 0


# --- the example, init, files and errors --------------------------------------------------


def test_init_buyer_copies_the_example(tmp_path: Path) -> None:
    root = tmp_path / "buyer"
    result = runner.invoke(app, ["init", "--buyer", str(root)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in root.iterdir()) == ["buyer.yaml"]
    spec = safe_load((root / "buyer.yaml").read_text(encoding="utf-8"))
    assert [
        (
            lot["number"],
            lot["allocation"],
            len(lot["holders"]),
            lot["estimated_yearly"],
            lot["maximum_yearly"],
        )
        for lot in spec["lots"]
    ] == [
        (1, "rotation", 4, 50000, 80000),
        (2, "cascade", 4, 60000, 120000),
        (3, "cascade", 8, 180000, 300000),
    ]
    code, output = run(root, "allocate", "--date", "2025-03-03")
    assert code == 0, output
    found = holders(root)
    assert found["cadres-appui-rennes"] == "exemple-c"  # a and b serve the Rennes team
    assert "conseillers-techniques" not in found
    (order,) = [o for o in orders(root) if o["group"] == "cadres-appui-rennes"]
    assert order["reason"] == (
        "rotation: after exemple-d, exemple-a skipped (serves team rennes via "
        "resp-cdas-rennes), exemple-b skipped (serves team rennes via resp-ef-rennes), "
        "exemple-c (rank 3) takes it"
    )
    # the practitioner init is unchanged
    result = runner.invoke(app, ["init", str(tmp_path / "practitioner")])
    assert result.exit_code == 0
    assert (tmp_path / "practitioner" / "practitioner.yaml").exists()
    assert not (tmp_path / "practitioner" / "buyer.yaml").exists()


def test_wrong_kind_of_workspace_is_said_clearly(tmp_path: Path) -> None:
    practitioner = write_workspace(tmp_path / "ws")
    for command in (["allocate"], ["decline", "BC-2025-0001"], ["lots"]):
        code, output = run(practitioner, *command)
        assert code == 2
        assert "this is a practitioner workspace" in output
        assert "apptool init --buyer DIR" in " ".join(output.split())
    code, output = run(tmp_path, "lots")
    assert code == 2 and "not a buyer workspace (no buyer.yaml)" in output


def test_bad_buyer_yaml_gives_file_line_errors(tmp_path: Path) -> None:
    head = HEAD.replace("{rank: 2, id: h2", "{rank: 3, id: h2").replace(
        "reference: TEST-AC", "reference: TEST-AC\n  colour: blue"
    )
    root = write_buyer(
        tmp_path / "b",
        """\
        - {id: g1, name: G1, lot: 1, team: t1, sessions: 10}
        - {id: g1, name: G1 again, lot: 9, sessions: 10}
        - {id: g3, name: G3, lot: 1, sessions: 10}
        """,
        head,
    )
    code, output = run(root, "lots")
    assert code == 2
    assert "buyer.yaml:4: agreement.colour: unknown key" in output
    # the model is rejected as a whole: fix the unknown key, then the rules speak
    root = write_buyer(
        root,
        """\
        - {id: g1, name: G1, lot: 1, team: t1, sessions: 10}
        - {id: g1, name: G1 again, lot: 9, sessions: 10}
        - {id: g3, name: G3, lot: 1, sessions: 10}
        """,
        head.replace("\n  colour: blue", ""),
    )
    code, output = run(root, "allocate", "--date", "2025-03-03")
    assert code == 2
    lines = output.splitlines()
    for expected in (
        "error: buyer.yaml:16: lots[0].holders[1].rank: rank 3 where 2 is expected",
        "error: buyer.yaml:29: groups[1].id: duplicate group id 'g1' (first at groups[0])",
        "error: buyer.yaml:29: groups[1].lot: unknown lot 9 (known: 1, 2)",
        "error: buyer.yaml:30: groups[2].team: missing: lot 1 is allocated by rotation",
    ):
        assert any(line.startswith(expected) for line in lines), (expected, output)
    assert not (root / "records").exists()


def test_bad_orders_file_gives_file_line_errors(tmp_path: Path) -> None:
    root = write_buyer(
        tmp_path / "b",
        """\
        - {id: g1, name: G1, lot: 1, team: t1, sessions: 10}
        - {id: g2, name: G2, lot: 1, team: t2, sessions: 10}
        """,
    )
    assert run(root, "allocate", "--date", "2025-03-03")[0] == 0
    path = root / "records" / "orders.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("holder: h2", "holder: h9").replace("amount: '6000.00'", "amount: '6001.00'"),
        encoding="utf-8",
    )
    code, output = run(root, "lots")
    assert code == 2
    assert "records/orders.yaml:16: orders[0].amount: 6001.00 is not 10 x 600.00" in output
    assert "records/orders.yaml:32: orders[1].holder: 'h9' is not a holder of lot 1" in output
    path.write_text(text.replace("BC-2025-0002", "BC-2025-0003"), encoding="utf-8")
    code, output = run(root, "allocate")
    assert code == 2 and "numbers are continuous; missing: BC-2025-0002" in output


@pytest.mark.parametrize("command", [["allocate"], ["decline"], ["lots"], ["init"]])
def test_every_buyer_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    if command == ["init"]:
        assert "--buyer" in result.output


def test_main_help_lists_the_buyer_commands() -> None:
    result = runner.invoke(app, ["--help"])
    for name in ("allocate", "decline", "lots"):
        assert name in result.output


def test_a_busy_buyer_workspace_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from apptool.store.buyer_files import buyer_locked

    root = write_buyer(tmp_path / "b", "- {id: p1, name: P1, lot: 2, sessions: 2}\n")
    monkeypatch.setenv("APPTOOL_LOCK_TIMEOUT", "0.1")
    with buyer_locked(root):
        code, output = run(root, "allocate", "--date", "2025-03-03")
    assert code == 5 and "another apptool command" in output
    assert not (root / "records").exists()
