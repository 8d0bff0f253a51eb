"""Rules that relate several fields of a file: one function per rule, each returning problems.

Pydantic checks each field on its own; these rules run after it, on a valid model, and name
the exact item at fault (``groups[3].location``) so the problem carries its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from apptool.domain.contract import (
    active_until,
    agreement_year,
    agreement_year_bounds,
    ordered_group_start_problem,
    window_months,
    yearly_ceiling_problem,
)
from apptool.domain.models import (
    Billing,
    Convention,
    DayRange,
    Group,
    Practitioner,
    TravelPair,
    format_duration,
    minutes,
    split_address,
)
from apptool.domain.records import Distributions, IndividualConsultations, Notes
from apptool.domain.schedule import Session
from apptool.domain.source import Document
from apptool.errors import Path_, Problem, did_you_mean, field_name

ConventionRule = Callable[[Convention, Document], list[Problem]]


def duplicates(
    doc: Document, items: Iterable[Any], key: str, what: str, attribute: str = "id"
) -> list[Problem]:
    """A problem for each item of ``doc[key]`` whose ``attribute`` repeats an earlier one's."""
    seen: dict[Any, int] = {}
    problems = []
    for index, item in enumerate(items):
        value = getattr(item, attribute)
        if value in seen:
            label = "id" if attribute == "id" else attribute
            problems.append(
                doc.problem(
                    (key, index, attribute),
                    f"duplicate {what} {label} {value!r} (first at {key}[{seen[value]}])",
                )
            )
        else:
            seen[value] = index
    return problems


def group_entries(convention: Convention) -> list[tuple[Group, Path_]]:
    """Every group as written in the file, with its path: declared ones, then orders' ones."""
    entries: list[tuple[Group, Path_]] = [
        (group, ("groups", index)) for index, group in enumerate(convention.declared_groups)
    ]
    for o_index, order in enumerate(convention.orders):
        entries += [
            (group, ("orders", o_index, "groups", g_index))
            for g_index, group in enumerate(order.groups)
        ]
    return entries


def unique_group_ids(convention: Convention, doc: Document) -> list[Problem]:
    """Each group has its own id, across purchase orders too: session ids are built from it."""
    seen: dict[str, Path_] = {}
    problems = []
    for group, path in group_entries(convention):
        if group.id in seen:
            problems.append(
                doc.problem(
                    (*path, "id"),
                    f"duplicate group id {group.id!r} (first at {field_name(seen[group.id])})",
                )
            )
        else:
            seen[group.id] = path
    return problems


def group_has_cadence_or_count(convention: Convention, doc: Document) -> list[Problem]:
    """A group meets once per cadence period, or a number of sessions within from..to."""
    problems = []
    for group, path in group_entries(convention):
        has_cadence = "cadence" in group.model_fields_set
        if group.sessions is None and not has_cadence:
            problems.append(doc.problem((*path, "cadence"), "missing: this key is required"))
        elif group.sessions is not None and has_cadence:
            problems.append(
                doc.problem((*path, "sessions"), "give either cadence or sessions, not both")
            )
        elif group.sessions is not None and (
            (group.start is None and path[0] != "orders") or group.end is None
        ):
            problems.append(
                doc.problem(
                    (*path, "sessions"),
                    "a number of sessions needs the dates it falls within: from and to",
                )
            )
        if group.start and group.end and group.end < group.start:
            problems.append(doc.problem((*path, "to"), f"{group.end} is before {group.start}"))
    return problems


def unique_location_ids(convention: Convention, doc: Document) -> list[Problem]:
    """Each location (art. 3) has its own id."""
    return duplicates(doc, convention.locations, "locations", "location")


def known_group_locations(convention: Convention, doc: Document) -> list[Problem]:
    """A group meets at one of the convention's locations (art. 3)."""
    known = list(dict.fromkeys(loc.id for loc in convention.locations))
    return [
        doc.problem(
            (*path, "location"),
            f"unknown location {group.location!r}" + did_you_mean(group.location, known),
        )
        for group, path in group_entries(convention)
        if group.location not in known
    ]


def slots_fit_duration(convention: Convention, doc: Document) -> list[Problem]:
    """A session starts at a slot and lasts the session duration (art. 2.1): it must fit."""
    duration = convention.session_duration
    return [
        doc.problem(
            ("slots", index),
            f"slot {slot.label} lasts {format_duration(slot.length)}, shorter than the "
            f"session duration {format_duration(duration)}",
        )
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
        problems.append(
            doc.problem(("period", "end"), f"end {term.end} is before start {term.start}")
        )
    if term.termination is not None and term.termination < term.start:
        problems.append(
            doc.problem(
                ("period", "termination"),
                f"termination {term.termination} is before start {term.start}",
            )
        )
    return problems


def preferred_slots_exist(convention: Convention, doc: Document) -> list[Problem]:
    """A group's preferred slot is one of the convention's slots."""
    starts = {minutes(slot.start): slot for slot in convention.slots}
    known = ", ".join(slot.label for slot in convention.slots)
    problems = []
    for group, path in group_entries(convention):
        for s_index, start in enumerate(group.preferences.slots):
            if minutes(start) not in starts:
                problems.append(
                    doc.problem(
                        (*path, "preferences", "slots", s_index),
                        f"{start:%H:%M} is not the start of a slot of this convention ({known})",
                    )
                )
    return problems


def siret_valid(convention: Convention, doc: Document) -> list[Problem]:
    """The establishment's SIRET is 14 digits with a valid checksum."""
    siret = convention.establishment.siret
    if siret is None:
        return []
    from stdnum.fr import siret as siret_number  # lazy: only for a SIRET to check

    if not siret_number.is_valid(siret):
        return [
            doc.problem(
                ("establishment", "siret"),
                f"{siret!r} is not a valid SIRET (14 digits, Luhn checksum)",
            )
        ]
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


def kind_matches_content(convention: Convention, doc: Document) -> list[Problem]:
    """A convention lists its groups; a framework agreement has a lot and purchase orders."""
    problems = []
    if convention.kind == "convention":
        if convention.lot is not None:
            problems.append(doc.problem(("lot",), "only a framework-agreement has a lot"))
        if convention.orders:
            problems.append(
                doc.problem(
                    ("orders",),
                    "only a framework-agreement has purchase "
                    "orders (set kind: framework-agreement)",
                )
            )
    else:
        if convention.lot is None:
            problems.append(doc.problem(("lot",), "missing: this key is required"))
        if convention.declared_groups:
            problems.append(
                doc.problem(
                    ("groups",),
                    "a framework agreement's groups come "
                    "from its purchase orders (orders[].groups)",
                )
            )
    return problems


def renewal_complete(convention: Convention, doc: Document) -> list[Problem]:
    """A single renewal ends after the initial end (e.g. 2 years + 2 years)."""
    term = convention.period
    if term.renewal != "once":
        if term.renewal_end is not None or term.renewed:
            return [
                doc.problem(("period", "renewal"), "renewal_end and renewed go with renewal: once")
            ]
        return []
    if term.renewal_end is None:
        return [doc.problem(("period", "renewal_end"), "missing: the end of the renewal")]
    if term.renewal_end <= term.end:
        return [
            doc.problem(
                ("period", "renewal_end"), f"{term.renewal_end} is not after the end {term.end}"
            )
        ]
    return []


def orders_consistent(convention: Convention, doc: Document) -> list[Problem]:
    """Order numbers are unique, dated within the agreement, with a maximum >= unit price;
    an order's groups start on or after its date."""
    problems = []
    seen: set[str] = set()
    for index, order in enumerate(convention.orders):
        if order.number in seen:
            problems.append(
                doc.problem(("orders", index, "number"), f"duplicate order number {order.number!r}")
            )
        seen.add(order.number)
        if not convention.period.start <= order.date <= active_until(convention):
            problems.append(
                doc.problem(
                    ("orders", index, "date"),
                    f"{order.date} is outside the agreement's period "
                    f"({convention.period.start} to {active_until(convention)})",
                )
            )
        if order.maximum < order.unit_price:
            problems.append(
                doc.problem(
                    ("orders", index, "maximum"), "the maximum is below one session's price"
                )
            )
        for g_index, group in enumerate(order.groups):
            if (problem := ordered_group_start_problem(order.date, group)) is not None:
                problems.append(doc.problem(("orders", index, "groups", g_index, "from"), problem))
    return problems


def session_counts_fit(convention: Convention, doc: Document) -> list[Problem]:
    """A number of sessions fits its window: at most one a month, in eligible months."""
    problems = []
    for group, path in group_entries(convention):
        if group.sessions is None or group.end is None:
            continue
        first = group.start or (
            convention.orders[path[1]].date
            if path[0] == "orders" and isinstance(path[1], int)
            else convention.period.start
        )
        months = window_months(convention, group.model_copy(update={"start": first}))
        if group.sessions > len(months):
            problems.append(
                doc.problem(
                    (*path, "sessions"),
                    f"{group.sessions} sessions need "
                    f"{group.sessions} eligible months between "
                    f"{first} and {group.end}; there are "
                    f"{len(months)}",
                )
            )
    return problems


def orders_within_lot_maximum(convention: Convention, doc: Document) -> list[Problem]:
    """A framework agreement's lot has a yearly maximum counted per agreement year (from the
    agreement's start, 12 months each): the maxima of the orders of one agreement year
    cannot exceed it (the whole lot, every holder together, may not be ordered more)."""
    if convention.lot is None:
        return []
    start = convention.period.start
    totals: dict[int, Decimal] = {}
    problems = []
    dated = sorted(enumerate(convention.orders), key=lambda e: (e[1].date, e[0]))
    for index, order in dated:
        year = agreement_year(start, order.date)
        if year < 1:
            continue  # outside the agreement: orders_consistent says so
        before = totals.get(year, Decimal("0.00"))
        totals[year] = before + order.maximum
        first, last = agreement_year_bounds(start, year)
        problem = yearly_ceiling_problem(
            before,
            order.maximum,
            convention.lot.maximum_yearly,
            f"order {order.number}",
            f"lot {convention.lot.number}, agreement year {year} ({first} to {last})",
        )
        if problem is not None and before <= convention.lot.maximum_yearly:
            problems.append(doc.problem(("orders", index, "maximum"), problem))
    return problems


#: The VAT rates a French e-invoice may carry (rule BR-FR-16 of the French CTC schematron:
#: metropolitan France, Corsica and the overseas departments, current and past).
FRENCH_VAT_RATES = frozenset(
    Decimal(rate)
    for rate in (
        "0", "0.9", "1.05", "1.75", "2.1", "5.5", "7", "8.5", "9.2", "9.6", "10", "13",
        "19.6", "20", "20.6",
    )
)  # fmt: skip


def _vat_rate_problem(rate: Decimal | None, loc: Path_, doc: Document) -> list[Problem]:
    if rate is None or rate in FRENCH_VAT_RATES:
        return []
    allowed = ", ".join(f"{r.normalize():f}" for r in sorted(FRENCH_VAT_RATES))
    return [doc.problem(loc, f"{rate.normalize():f} is not a French VAT rate ({allowed})")]


def vat_rate_french(convention: Convention, doc: Document) -> list[Problem]:
    """A buyer's VAT rate is one of the French rates (BR-FR-16 refuses any other)."""
    return _vat_rate_problem(convention.fees.vat_rate, ("fees", "vat_rate"), doc)


def vat_charged_as_the_profile_says(
    convention: Convention, billing: Billing | None, doc: Document
) -> list[Problem]:
    """Art. 293 B du CGI: under the VAT franchise no VAT is charged, so a buyer's VAT rate
    contradicts it; and a practitioner who charges VAT charges it to every buyer: a 0 % rate
    would need an exemption of its own, which apptool does not print (refused rather than an
    invoice with a false mention)."""
    rate = convention.fees.vat_rate
    if billing is None or rate is None:
        return []
    if billing.vat.rate is None and rate != 0:
        return [
            doc.problem(
                ("fees", "vat_rate"),
                f"{rate.normalize():f} % VAT for this buyer, but practitioner.yaml's billing "
                "is under the VAT franchise (art. 293 B du CGI: no VAT charged): remove "
                "fees.vat_rate, or give billing.vat a rate and a VAT number",
            )
        ]
    if billing.vat.rate is not None and rate == 0:
        return [
            doc.problem(
                ("fees", "vat_rate"),
                "0 % VAT for a practitioner who charges VAT needs an exemption and its legal "
                "mention, which apptool does not handle: remove fees.vat_rate (the profile's "
                "rate applies)",
            )
        ]
    return []


def convention_travel_complete(convention: Convention, doc: Document) -> list[Problem]:
    """A convention's own travel entries (e.g. an agreement's distant sites) are complete."""
    return travel_entries_complete(convention.travel, "travel", doc)


CONVENTION_RULES: tuple[ConventionRule, ...] = (
    kind_matches_content,
    renewal_complete,
    orders_consistent,
    orders_within_lot_maximum,
    group_has_cadence_or_count,
    session_counts_fit,
    unique_group_ids,
    unique_location_ids,
    known_group_locations,
    slots_fit_duration,
    unique_slots,
    period_in_order,
    preferred_slots_exist,
    siret_valid,
    closures_in_order,
    convention_travel_complete,
    vat_rate_french,
)


#: The rules an agreement is checked by again once the orders recorded with ``apptool order
#: add`` are merged into it (the others are about how its own file is written).
MERGED_ORDER_RULES: tuple[ConventionRule, ...] = (
    kind_matches_content,
    orders_consistent,
    session_counts_fit,
    unique_group_ids,
    known_group_locations,
    preferred_slots_exist,
)


def convention_problems(
    convention: Convention, doc: Document, rules: tuple[ConventionRule, ...] = CONVENTION_RULES
) -> list[Problem]:
    return [problem for rule in rules for problem in rule(convention, doc)]


def practitioner_problems(practitioner: Practitioner, doc: Document) -> list[Problem]:
    """Rules of the practitioner's profile."""
    problems = ranges_in_order(practitioner.unavailability, "unavailability", doc)
    problems += travel_entries_complete(practitioner.travel, "travel", doc)
    if not practitioner.working_weekdays:
        problems.append(doc.problem(("working_weekdays",), "at least one working weekday"))
    if practitioner.billing is not None:
        problems += [
            problem for rule in BILLING_RULES for problem in rule(practitioner.billing, doc)
        ]
    return problems


BillingRule = Callable[[Billing, Document], list[Problem]]


def billing_siret_valid(billing: Billing, doc: Document) -> list[Problem]:
    """The practitioner's SIRET, a mandatory mention, has a valid checksum."""
    from stdnum.fr import siret as siret_number  # lazy: only for a SIRET to check

    if siret_number.is_valid(billing.siret):
        return []
    return [
        doc.problem(
            ("billing", "siret"),
            f"{billing.siret!r} is not a valid SIRET (14 digits, Luhn checksum)",
        )
    ]


def bank_details_valid(billing: Billing, doc: Document) -> list[Problem]:
    """The IBAN and BIC printed on invoices are valid (checksum, format)."""
    from stdnum import bic, iban  # lazy: only for bank details to check

    problems = []
    if not iban.is_valid(billing.iban):
        problems.append(doc.problem(("billing", "iban"), f"{billing.iban!r} is not a valid IBAN"))
    if not bic.is_valid(billing.bic):
        problems.append(doc.problem(("billing", "bic"), f"{billing.bic!r} is not a valid BIC"))
    return problems


def vat_status_complete(billing: Billing, doc: Document) -> list[Problem]:
    """Either exempt with its legal mention (art. 293 B du CGI) or a French VAT rate, not
    both."""
    vat = billing.vat
    if vat.rate is not None and (
        wrong := _vat_rate_problem(vat.rate, ("billing", "vat", "rate"), doc)
    ):
        return wrong
    if (vat.exempt_mention is None) == (vat.rate is None):
        return [
            doc.problem(
                ("billing", "vat"),
                'give either exempt_mention (e.g. "TVA non '
                'applicable, art. 293 B du CGI") or rate (e.g. 20), not both',
            )
        ]
    if vat.rate is not None and not billing.vat_number:
        return [
            doc.problem(("billing", "vat_number"), "a VAT number is required when VAT is charged")
        ]
    return []


@lru_cache(maxsize=64)
def _numbers(pattern: str) -> frozenset[str]:
    """Numbers a pattern gives over a few years and seqs; a duplicate raises ValueError.

    A pattern without ``{year}`` runs on across years (it never restarts): one year says it.
    Cached by pattern (480 numbers formatted: most of a workspace's load otherwise).
    """
    years = range(2024, 2028) if "{year" in pattern else range(2025, 2026)
    numbers: dict[str, tuple[int, int]] = {}
    for year in years:
        for seq in range(1, 121):
            number = pattern.format(year=year, seq=seq)
            if number in numbers:
                raise ValueError(
                    f"gives {number} twice ({numbers[number]} and {(year, seq)} as (year, "
                    "seq)): an issued number must never be given again"
                )
            numbers[number] = (year, seq)
    return frozenset(numbers)


def number_patterns_valid(billing: Billing, doc: Document) -> list[Problem]:
    """Numbers are unique forever (CGI art. 242 nonies A): a pattern holds ``{seq}``, and
    either ``{year}`` (the sequence restarts each year) or no year (it never restarts); the
    invoice and credit-note series never give the same number."""
    problems = []
    given: dict[str, frozenset[str]] = {}
    for key in ("number_pattern", "credit_note_pattern"):
        pattern = getattr(billing, key)
        try:
            sample = pattern.format(year=2025, seq=1)
        except KeyError as exc:
            problems.append(
                doc.problem(
                    ("billing", key),
                    f"{pattern!r}: {{{exc.args[0]}}} is not a field of a number: use {{year}} "
                    "and {seq} (e.g. {seq:04d}) with letters, digits, '-' or '_'",
                )
            )
            continue
        except (IndexError, ValueError, AttributeError):
            problems.append(
                doc.problem(
                    ("billing", key),
                    f"{pattern!r} is not a number pattern: write e.g. FA-{{year}}-{{seq:04d}} "
                    "(braces only around year and seq)",
                )
            )
            continue
        if "{seq" not in pattern or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", sample):
            problems.append(
                doc.problem(
                    ("billing", key),
                    f"{pattern!r} must contain {{seq}} "
                    "and give up to 20 letters, digits, '-' or '_'",
                )
            )
            continue
        try:
            given[key] = _numbers(pattern)
        except ValueError as exc:
            problems.append(doc.problem(("billing", key), f"{pattern!r} {exc}"))
    if len(given) == 2:
        shared = sorted(given["number_pattern"] & given["credit_note_pattern"])
        if shared:
            problems.append(
                doc.problem(
                    ("billing", "credit_note_pattern"),
                    f"credit notes need their own series: {shared[0]} would be both an "
                    "invoice and a credit note",
                )
            )
    return problems


def billing_address_valid(billing: Billing, doc: Document) -> list[Problem]:
    """The seller's address ends with a line '<postcode> <city>'."""
    if split_address(billing.address) is None:
        return [
            doc.problem(
                ("billing", "address"),
                "the last line must be '<postcode> <city>', e.g. '28100 Dreux'",
            )
        ]
    return []


BILLING_RULES: tuple[BillingRule, ...] = (
    billing_siret_valid,
    bank_details_valid,
    vat_status_complete,
    number_patterns_valid,
    billing_address_valid,
)


def travel_entries_complete(entries: list[TravelPair], key: str, doc: Document) -> list[Problem]:
    """A travel entry gives its minutes, or says the two sites are too far apart for one day
    (``same_day: false``), between two different sites."""
    problems = []
    for index, entry in enumerate(entries):
        if entry.same_day == (entry.minutes is None):
            problems.append(
                doc.problem(
                    (key, index),
                    "give minutes (e.g. minutes: 45), or "
                    "same_day: false for sites too far apart for one day",
                )
            )
        if entry.between[0] == entry.between[1]:
            problems.append(doc.problem((key, index, "between"), "two different sites"))
    return problems


def travel_sites_known(
    entries: list[TravelPair], key: str, doc: Document, conventions: dict[str, Convention]
) -> list[Problem]:
    """A site of a travel entry is a location of its convention; a pair naming a convention
    that is not in the workspace is ignored (a convention to come, e.g. an agreement's)."""
    problems = []
    for index, entry in enumerate(entries):
        for side, site in enumerate(entry.between):
            conv_id, _, location = site.partition("/")
            convention = conventions.get(conv_id)
            if site == "office" or convention is None or location == "*":
                continue
            known = [loc.id for loc in convention.locations]
            if location not in known:
                problems.append(
                    doc.problem(
                        (key, index, "between", side),
                        f"unknown location {location!r} of {conv_id}"
                        + did_you_mean(location, known),
                    )
                )
    return problems


# --- records/: what the tool wrote refers to what exists -----------------------------------


def consultation_problems(
    records: IndividualConsultations, doc: Document, conventions: dict[str, Convention]
) -> list[Problem]:
    """``records/individual.yaml``: each consultation names a known convention, once; a
    removed one (``removed:``) keeps its id, which no other consultation takes."""
    problems = duplicates(doc, records.consultations, "consultations", "consultation")
    problems += duplicates(doc, records.removed, "removed", "removed consultation")
    recorded = {c.id: index for index, c in enumerate(records.consultations)}
    for key, entries in (("consultations", records.consultations), ("removed", records.removed)):
        for index, consultation in enumerate(entries):
            if consultation.convention not in conventions:
                problems.append(
                    doc.problem(
                        (key, index, "convention"),
                        f"unknown convention {consultation.convention!r}"
                        + did_you_mean(consultation.convention, conventions),
                    )
                )
    for index, removed in enumerate(records.removed):
        if removed.id in recorded:
            problems.append(
                doc.problem(
                    ("removed", index, "id"),
                    f"{removed.id!r} is both removed and recorded (consultations"
                    f"[{recorded[removed.id]}]): an id is never given again",
                )
            )
    return problems


def note_problems(notes: Notes, doc: Document, sessions: dict[str, Session]) -> list[Problem]:
    """``records/notes.yaml``: one note per session of the calendars, of its convention."""
    problems = duplicates(doc, notes.notes, "notes", "note", attribute="session")
    for index, note in enumerate(notes.notes):
        session = sessions.get(note.session)
        if session is None:
            problems.append(
                doc.problem(
                    ("notes", index, "session"),
                    f"unknown session {note.session!r}" + did_you_mean(note.session, sessions),
                )
            )
        elif session.convention != note.convention:
            problems.append(
                doc.problem(
                    ("notes", index, "convention"),
                    f"{note.session} belongs to convention {session.convention!r}",
                )
            )
    return problems


def distribution_problems(
    distributions: Distributions, doc: Document, conventions: dict[str, Convention]
) -> list[Problem]:
    """``records/distributions.yaml``: versions of known conventions, each version once."""
    problems = []
    seen: dict[tuple[str, int, int], int] = {}
    for index, entry in enumerate(distributions.distributions):
        if entry.convention not in conventions:
            problems.append(
                doc.problem(
                    ("distributions", index, "convention"),
                    f"unknown convention {entry.convention!r}",
                )
            )
        key = (entry.convention, entry.year, entry.version)
        if key in seen:
            problems.append(
                doc.problem(
                    ("distributions", index, "version"),
                    f"version {entry.version} of {entry.convention} {entry.year} recorded twice "
                    f"(first at distributions[{seen[key]}])",
                )
            )
        seen.setdefault(key, index)
    return problems
