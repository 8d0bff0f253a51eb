"""The dated table of the ECB main refinancing rate: the one shipped with apptool
(``apptool/data/ecb-rates.yaml``) and the newer rows a workspace adds in ``ecb-rates.yaml``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

from apptool.domain.register import EcbRates
from apptool.errors import InvalidInput
from apptool.store.loading import parse_yaml, read_yaml, validate_document

RATES = "ecb-rates.yaml"


def shipped_rates() -> EcbRates:
    """The table shipped in the package."""
    text = (resources.files("apptool") / "data" / RATES).read_text(encoding="utf-8")
    doc = parse_yaml(text, Path(RATES), f"apptool/data/{RATES}")
    rates, problems = validate_document(doc, EcbRates)
    if rates is None:  # a broken package, not a user mistake
        raise InvalidInput("the shipped ECB rate table is damaged", problems)
    return rates


def workspace_rates(root: Path) -> EcbRates:
    """The workspace's own rows (``ecb-rates.yaml``, optional), validated with file:line."""
    path = root / RATES
    if not path.exists():
        return EcbRates()
    doc = read_yaml(path, RATES)
    if doc.data is None:
        return EcbRates()
    rates, problems = validate_document(doc, EcbRates)
    if rates is None:
        raise InvalidInput(f"{RATES} has errors", problems)
    return rates


def load_rates(root: Path) -> list[tuple[date, Decimal]]:
    """Both tables as one: a workspace row replaces a shipped one of the same day."""
    merged = {r.since: r.rate for r in shipped_rates().rates}
    merged.update({r.since: r.rate for r in workspace_rates(root).rates})
    return sorted(merged.items())
