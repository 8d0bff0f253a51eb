"""Rules that relate several fields of a file: one function per rule, each returning problems.

Pydantic checks each field on its own; these rules run after it, on a valid model, and name
the exact item at fault (``groups[3].location``) so the problem carries its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import Problem
from .loading import Document
from .models import (
    Billing,
    Convention,
    DayRange,
    Practitioner,
    format_duration,
    minutes,
    split_address,
)

ConventionRule = Callable[[Convention, Document], list[Problem]]


def _duplicates(doc: Document, items: Iterable[Any], key: str, what: str) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for index, item in enumerate(items):
        value = item.id
        if value in seen:
            problems.append(doc.problem(
                (key, index, "id"), f"duplicate {what} id {value!r} (first at {key}[{seen[value]}])"
            ))
        else:
            seen[value] = index
    return problems


def unique_group_ids(convention: Convention, doc: Document) -> list[Problem]:
    """Each group has its own id: session ids are built from it."""
    return _duplicates(doc, convention.groups, "groups", "group")


def unique_location_ids(convention: Convention, doc: Document) -> list[Problem]:
    """Each location (art. 3) has its own id."""
    return _duplicates(doc, convention.locations, "locations", "location")


def known_group_locations(convention: Convention, doc: Document) -> list[Problem]:
    """A group meets at one of the convention's locations (art. 3)."""
    known = list(dict.fromkeys(loc.id for loc in convention.locations))
    return [
        doc.problem(("groups", index, "location"),
                    f"unknown location {group.location!r} (known: {', '.join(known)})")
        for index, group in enumerate(convention.groups)
        if group.location not in known
    ]


def slots_fit_duration(convention: Convention, doc: Document) -> list[Problem]:
    """A session starts at a slot and lasts the session duration (art. 2.1): it must fit."""
    duration = convention.session_duration
    return [
        doc.problem(("slots", index),
                    f"slot {slot.label} lasts {format_duration(slot.length)}, shorter than the "
                    f"session duration {format_duration(duration)}")
        for index, slot in enumerate(convention.slots)
        if slot.length < duration
    ]


def unique_slots(convention: Convention, doc: Document) -> list[Problem]:
    """Two slots may not start at the same time."""
    seen: set[int] = set()
    problems = []
    for index, slot in enumerate(convention.slots):
        if minutes(slot.start) in seen:
            problems.append(doc.problem(("slots", index), f"slot {slot.label} is listed twice"))
        seen.add(minutes(slot.start))
    return problems


def period_in_order(convention: Convention, doc: Document) -> list[Problem]:
    """The convention ends after it starts, and is not terminated before it starts (art. 9)."""
    term = convention.period
    problems = []
    if term.end < term.start:
        problems.append(doc.problem(("period", "end"),
                                    f"end {term.end} is before start {term.start}"))
    if term.termination is not None and term.termination < term.start:
        problems.append(doc.problem(("period", "termination"),
                                    f"termination {term.termination} is before start {term.start}"))
    return problems


def preferred_slots_exist(convention: Convention, doc: Document) -> list[Problem]:
    """A group's preferred slot is one of the convention's slots."""
    starts = {minutes(slot.start): slot for slot in convention.slots}
    known = ", ".join(slot.label for slot in convention.slots)
    problems = []
    for g_index, group in enumerate(convention.groups):
        for s_index, start in enumerate(group.preferences.slots):
            if minutes(start) not in starts:
                problems.append(doc.problem(
                    ("groups", g_index, "preferences", "slots", s_index),
                    f"{start:%H:%M} is not the start of a slot of this convention ({known})",
                ))
    return problems


def siret_valid(convention: Convention, doc: Document) -> list[Problem]:
    """The establishment's SIRET is 14 digits with a valid checksum."""
    siret = convention.establishment.siret
    if siret is None:
        return []
    from stdnum.fr import siret as siret_number

    if not siret_number.is_valid(siret):
        return [doc.problem(("establishment", "siret"),
                            f"{siret!r} is not a valid SIRET (14 digits, Luhn checksum)")]
    return []


def ranges_in_order(ranges: list[DayRange], key: str, doc: Document) -> list[Problem]:
    """A range of days ends on or after its first day."""
    return [
        doc.problem((key, index, "to"), f"{r.end} is before {r.start}")
        for index, r in enumerate(ranges)
        if r.end is not None and r.end < r.start
    ]


def closures_in_order(convention: Convention, doc: Document) -> list[Problem]:
    """Each closure ends on or after its first day."""
    return ranges_in_order(convention.closures, "closures", doc)


CONVENTION_RULES: tuple[ConventionRule, ...] = (
    unique_group_ids,
    unique_location_ids,
    known_group_locations,
    slots_fit_duration,
    unique_slots,
    period_in_order,
    preferred_slots_exist,
    siret_valid,
    closures_in_order,
)


def convention_problems(convention: Convention, doc: Document) -> list[Problem]:
    return [problem for rule in CONVENTION_RULES for problem in rule(convention, doc)]


def practitioner_problems(practitioner: Practitioner, doc: Document) -> list[Problem]:
    """Rules of the practitioner's profile."""
    problems = ranges_in_order(practitioner.unavailability, "unavailability", doc)
    if not practitioner.working_weekdays:
        problems.append(doc.problem(("working_weekdays",), "at least one working weekday"))
    if practitioner.billing is not None:
        problems += [problem for rule in BILLING_RULES
                     for problem in rule(practitioner.billing, doc)]
    return problems


BillingRule = Callable[[Billing, Document], list[Problem]]


def billing_siret_valid(billing: Billing, doc: Document) -> list[Problem]:
    """The practitioner's SIRET, a mandatory mention, has a valid checksum."""
    from stdnum.fr import siret

    if siret.is_valid(billing.siret):
        return []
    return [doc.problem(("billing", "siret"),
                        f"{billing.siret!r} is not a valid SIRET (14 digits, Luhn checksum)")]


def bank_details_valid(billing: Billing, doc: Document) -> list[Problem]:
    """The IBAN and BIC printed on invoices are valid (checksum, format)."""
    from stdnum import bic, iban

    problems = []
    if not iban.is_valid(billing.iban):
        problems.append(doc.problem(("billing", "iban"), f"{billing.iban!r} is not a valid IBAN"))
    if not bic.is_valid(billing.bic):
        problems.append(doc.problem(("billing", "bic"), f"{billing.bic!r} is not a valid BIC"))
    return problems


def vat_status_complete(billing: Billing, doc: Document) -> list[Problem]:
    """Either exempt with its legal mention (art. 293 B du CGI) or a VAT rate, not both."""
    vat = billing.vat
    if (vat.exempt_mention is None) == (vat.rate is None):
        return [doc.problem(("billing", "vat"), "give either exempt_mention (e.g. \"TVA non "
                            "applicable, art. 293 B du CGI\") or rate (e.g. 20), not both")]
    if vat.rate is not None and not billing.vat_number:
        return [doc.problem(("billing", "vat_number"),
                            "a VAT number is required when VAT is charged")]
    return []


def number_patterns_valid(billing: Billing, doc: Document) -> list[Problem]:
    """Invoice numbers are built from a pattern with {year} and {seq} (e.g. {year}-{seq:04d})."""
    problems = []
    for key in ("number_pattern", "credit_note_pattern"):
        pattern = getattr(billing, key)
        try:
            sample = pattern.format(year=2025, seq=1)
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(doc.problem(("billing", key), f"{pattern!r}: {exc}"))
            continue
        if "{seq" not in pattern or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", sample):
            problems.append(doc.problem(("billing", key), f"{pattern!r} must contain {{seq}} "
                                        "and give up to 20 letters, digits, '-' or '_'"))
    if billing.number_pattern.format(year=2025, seq=1) == billing.credit_note_pattern.format(
            year=2025, seq=1):
        problems.append(doc.problem(("billing", "credit_note_pattern"),
                                    "credit notes need their own series"))
    return problems


def billing_address_valid(billing: Billing, doc: Document) -> list[Problem]:
    """The seller's address ends with a line '<postcode> <city>'."""
    if split_address(billing.address) is None:
        return [doc.problem(("billing", "address"),
                            "the last line must be '<postcode> <city>', e.g. '28100 Dreux'")]
    return []


BILLING_RULES: tuple[BillingRule, ...] = (
    billing_siret_valid,
    bank_details_valid,
    vat_status_complete,
    number_patterns_valid,
    billing_address_valid,
)
