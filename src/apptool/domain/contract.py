"""The contract's clauses, one function each, named after the rule, the clause in its docstring.

Every other module asks these functions instead of deciding again: the planner, ``check``,
``reschedule``, ``cancel``, ``terminate``, invoicing and the documents that explain a
decision. Articles cited are those of the reference contract (the CCAS de Dreux convention,
``art. x``) and of the Ille-et-Vilaine framework agreement (deliberation of 9 May 2023).
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from dateutil.relativedelta import relativedelta

from apptool.domain.models import Convention, Group, minutes
from apptool.domain.schedule import Party, Period, Session, with_change

FAR_FUTURE = date(9999, 12, 31)
#: Art. 9.3: in case of force majeure, termination at any time with 15 days' notice.
FORCE_MAJEURE_NOTICE_DAYS = 15
#: Framework agreement: a warning once this share of a purchase order's maximum is invoiced.
ORDER_WARNING_SHARE = Decimal("0.8")


# --- where each rule is written -------------------------------------------------------------

ClauseName = Literal[
    "schedule",
    "notice",
    "individual",
    "report",
    "sites",
    "fees",
    "cancellation",
    "confidentiality",
    "renewal",
    "payment",
    "termination",
]


def clause(convention: Convention, name: ClauseName) -> str | None:
    """Where the contract writes a rule (``art. 2.1``), as its YAML's ``clauses`` says; None
    when it does not say: then nothing cites an article this contract may not have."""
    return getattr(convention.clauses, name)  # type: ignore[no-any-return]


def cited(text: str, convention: Convention, name: ClauseName) -> str:
    """``text (art. 2.1)``, or ``text`` alone when the contract gives no such clause.

    A text that ends in a parenthesis takes the article inside it, so a reader sees one:
    ``vacances scolaires (zone A, art. 2.1)``, never ``(zone A) (art. 2.1)``."""
    where = clause(convention, name)
    if not where:
        return text
    if _ends_in_parenthesis(text):
        return f"{text[:-1]}, {where})"
    return f"{text} ({where})"


def _ends_in_parenthesis(text: str) -> bool:
    """``text`` ends with a whole parenthesis: ``… (zone A)`` does, ``Chef(fe)s`` and a stray
    ``)`` do not."""
    if not text.endswith(")"):
        return False
    depth = 0
    for char in reversed(text):
        depth += {")": 1, "(": -1}.get(char, 0)
        if depth == 0:
            return True
    return False


# --- duration and renewal (art. 9.1), termination (art. 9.3) -------------------------------


def active_until(convention: Convention) -> date:
    """Last day the convention is active: its termination, else its end unless renewed.

    Art. 9.1: renewed every year by tacit renewal; art. 9.3: terminated at the end of a month.
    A framework agreement renewable once runs to ``renewal_end`` once the renewal is recorded.
    """
    term = convention.period
    if term.termination is not None:
        return term.termination
    return renewed_until(convention)


def renewed_until(convention: Convention) -> date:
    """Art. 9.1: the last day of the term with its renewals, before any termination."""
    term = convention.period
    if term.renewal == "tacit-yearly":
        return FAR_FUTURE
    if term.renewal == "once" and term.renewed and term.renewal_end is not None:
        return term.renewal_end
    return term.end


def is_active(convention: Convention, day: date) -> bool:
    """Art. 9.1: the convention takes effect on its start and runs to :func:`active_until`."""
    return convention.period.start <= day <= active_until(convention)


def term_text(convention: Convention) -> str:
    """The convention's active term in words: ``from 2025-04-01 to 2025-12-31``."""
    until = active_until(convention)
    if until == FAR_FUTURE:
        return f"from {convention.period.start}, renewed tacitly every year"
    return f"from {convention.period.start} to {until}"


def termination_end(notice_on: date, force_majeure: bool = False) -> date:
    """Effective end of a convention terminated on ``notice_on`` (art. 9.3).

    "à la fin de chaque mois [...] de prévenir 1 mois avant": the last day of the month in
    which the month of notice ends (notice on 2026-03-10 -> 2026-04-30). Force majeure:
    "à tout moment en respectant un préavis de 15 jours" (2026-03-10 -> 2026-03-25).
    """
    if force_majeure:
        return notice_on + timedelta(days=FORCE_MAJEURE_NOTICE_DAYS)
    after = notice_on + relativedelta(months=1)
    return after.replace(day=_calendar.monthrange(after.year, after.month)[1])


def effective_termination(*ends: date | None) -> date | None:
    """When a convention has several termination dates (written in its YAML, recorded by
    ``apptool terminate``), the earliest ends it: a convention cannot run past any of them."""
    given = [end for end in ends if end is not None]
    return min(given) if given else None


# --- the sessions of each group (art. 2.1) -------------------------------------------------


def month_excluded(convention: Convention, month: int) -> bool:
    """Art. 2.1: "aucun groupe d'analyse de pratiques ne sera organisé durant les mois de
    juillet et août" (the convention's ``excluded_months``)."""
    return month in convention.excluded_months


def _month_open(
    convention: Convention, group: Group | None, year: int, month: int, until: date | None = None
) -> bool:
    """The convention (and the group's window) covers part of the month, not excluded;
    ``until``: the convention's last day (default: :func:`active_until`)."""
    if month_excluded(convention, month):
        return False
    first = date(year, month, 1)
    last = date(year, month, _calendar.monthrange(year, month)[1])
    start = max(convention.period.start, group.start if group and group.start else first)
    end = min(until or active_until(convention), group.end if group and group.end else last)
    return start <= last and first <= end and start <= end


def window_months(convention: Convention, group: Group) -> list[tuple[int, int]]:
    """Eligible months within a group's window (from..to), in order, as the group was ordered:
    a termination of the convention (art. 9.3) does not change them."""
    assert group.start is not None and group.end is not None
    until = renewed_until(convention)
    months = []
    year, month = group.start.year, group.start.month
    while (year, month) <= (group.end.year, group.end.month):
        if _month_open(convention, group, year, month, until):
            months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def counted_months(convention: Convention, group: Group) -> set[tuple[int, int]]:
    """The months a group with a number of sessions meets in: spread evenly over its window.

    A termination (art. 9.3) does not spread them again: the sessions before the effective end
    keep their months, those after it are cancelled (:func:`eligible_months` drops the months
    after the end), so a calendar valid before a termination stays valid after it.
    """
    months = window_months(convention, group)
    count = min(group.sessions or 0, len(months))
    return {months[(2 * i + 1) * len(months) // (2 * count)] for i in range(count)}


def eligible_months(
    convention: Convention, period: Period, group: Group | None = None
) -> list[int]:
    """Months of a period in which the convention (and the group) is active, not excluded.

    Art. 2.1: no session in the excluded months. A group ordered for a number of sessions
    meets only in its chosen months (:func:`counted_months`).
    """
    months = [m for m in period.months if _month_open(convention, group, period.year, m)]
    if group is not None and group.sessions is not None and group.end is not None:
        chosen = counted_months(convention, group)
        months = [m for m in months if (period.year, m) in chosen]
    return months


def period_over(convention: Convention, period: Period, group: Group, today: date) -> bool:
    """Whether the last month a group may meet in ``period`` has ended by ``today``: the
    planner no longer places its session (the past is not rewritten); one that took place
    is written into the calendar by hand, then confirmed (``apptool held``)."""
    months = eligible_months(convention, period, group)
    if not months:
        return False
    last = months[-1]
    return date(period.year, last, _calendar.monthrange(period.year, last)[1]) <= today


def ordered_group_start_problem(order_date: date, group: Group) -> str | None:
    """A purchase order asks for sessions from its date on: its group's ``from`` is never
    before it (no session is required before the order exists)."""
    if group.start is not None and group.start < order_date:
        return (
            f"group {group.id}: {group.start} is before the order's date ({order_date}): an "
            "order asks for sessions from its date on"
        )
    return None


def periods_due(convention: Convention, group: Group, year: int) -> list[Period]:
    """Art. 2.1: "une intervention mensuelle" / "par trimestre": the cadence periods of
    ``year`` in which the group must meet once."""
    return [
        p for p in Period.all_in_year(year, group.cadence) if eligible_months(convention, p, group)
    ]


def slot_problem(session: Session, convention: Convention) -> str | None:
    """Art. 2.1: the groups' hours are fixed ("9h00-10h30, 10h30-12h00..."): a session
    starts at one of the convention's slots and lasts the session duration."""
    starts = {minutes(slot.start) for slot in convention.slots}
    if session.start_minutes not in starts:
        labels = ", ".join(slot.label for slot in convention.slots)
        return f"starts at {session.start:%H:%M}, not at a slot of the convention ({labels})"
    if session.end_minutes - session.start_minutes != convention.session_duration:
        return (
            f"lasts {session.end_minutes - session.start_minutes} min, the convention's "
            f"sessions last {convention.session_duration} min"
        )
    return None


def in_period(session: Session, convention: Convention, day: date) -> bool:
    """Whether ``day`` falls in an eligible month of the session's own period (art. 2.1)."""
    period = Period.parse(session.period)
    return day.year == period.year and day.month in eligible_months(
        convention, period, convention.group(session.group)
    )


def period_problem(session: Session, convention: Convention) -> str | None:
    """A session takes place in its period, in an eligible month (art. 2.1).

    A session moved out of its period (flagged) may leave it, but never into an excluded month.
    """
    if month_excluded(convention, session.date.month):
        return cited(f"{session.date}: no session in an excluded month", convention, "schedule")
    if session.moved_out_of_period:
        return None
    if not in_period(session, convention, session.date):
        return f"{session.date} is not in an eligible month of period {session.period}"
    return None


# --- moving and cancelling (art. 2.1, art. 4) ----------------------------------------------


def notice_days(session: Session, requested_on: date) -> int:
    """Days between the request and the session's current date."""
    return (session.date - requested_on).days


def notice_respected(given_days: int, convention: Convention) -> bool:
    """Art. 2.1: "sous réserve d'un délai de prévenance de 15 jours" (``notice_days``)."""
    return given_days >= convention.notice_days


def notice_problem(session: Session, convention: Convention, requested_on: date) -> str | None:
    """Art. 2.1: "Les dates d'intervention pourront être modifiées sous réserve d'un délai de
    prévenance de 15 jours": a session moves only if asked ``notice_days`` before its date.

    For a session the establishment cancelled and that awaits its report, the notice counts
    from the cancellation's request (:func:`report_notice_days`).
    """
    if session.status == "report-pending":
        given = report_notice_days(session)
        if not notice_respected(given, convention):
            return cited(
                f"{session.id} was cancelled {given} days before its date: with less than "
                f"the {convention.notice_days} days' notice no report can be agreed; record "
                "that no report is possible (apptool cancel ... --no-report)",
                convention,
                "notice",
            )
        return None
    given = notice_days(session, requested_on)
    if not notice_respected(given, convention):
        return cited(
            f"requested {requested_on} for a session on {session.date}: {given} days' "
            f"notice, the convention requires {convention.notice_days}",
            convention,
            "notice",
        )
    return None


def may_replan(session: Session, convention: Convention, today: date) -> bool:
    """``plan --fresh`` re-plans a session still as first planned (never moved, cancelled or
    confirmed) and that the practitioner may still move: its date is after ``today`` by at
    least the convention's notice (art. 2.1). One inside the notice stays where it is."""
    return (
        session.status == "planned"
        and not session.history
        and session.date > today
        and notice_problem(session, convention, today) is None
    )


def replanned(before: Session, after: Session, today: date) -> Session:
    """A session ``plan --fresh`` placed again: unchanged when it keeps its day and slot,
    else moved by the practitioner on ``today``, with the notice given, in its history (art.
    2.1: every move is recorded, and a notice tells the establishment)."""
    if (after.date, after.start, after.end) == (before.date, before.start, before.end):
        return before
    return moved(
        before, after, today, "practitioner", "calendrier replanifié", notice_days(before, today)
    )


def moved(
    before: Session,
    after: Session,
    requested_on: date,
    by: Party,
    reason: str | None,
    given: int,
) -> Session:
    """``after`` as a move of ``before`` (art. 2.1): status ``moved``, the move in its
    history (:func:`~apptool.domain.schedule.with_change`)."""
    return with_change(before, after, "moved", "moved", requested_on, by, reason, given)


def move_needs_notice(session: Session) -> bool:
    """The notice of art. 2.1 applies to moving a planned date; a session cancelled without
    being due (by the practitioner, or under a contract without art. 4's clause) may be
    rescheduled later without it. A session awaiting its report keeps the notice of its
    cancellation (:func:`notice_problem`)."""
    return session.status != "cancelled"


def report_notice_days(session: Session) -> int:
    """The notice a cancelled session's report counts from: the cancellation's request."""
    cancellations = [c for c in session.history if c.action == "cancelled"]
    return cancellations[-1].notice_days if cancellations else 0


def cancellation_clause(convention: Convention) -> bool:
    """Whether the convention keeps art. 4's clause: a cancellation by the establishment
    without possible report stays due (``cancellation.by_establishment_without_rescheduling``,
    the CCAS wording by default)."""
    return convention.cancellation.by_establishment_without_rescheduling == "due"


def report_possible(given_days: int, convention: Convention, dates_left: bool) -> bool:
    """A cancelled session can be reported ("report possible") when the cancellation gave the
    notice a date change needs (art. 2.1) and a valid date is left in its period."""
    return notice_respected(given_days, convention) and dates_left


def cancellation_status(
    by: Party, convention: Convention, report: bool, no_report: bool = False
) -> Literal["cancelled", "report-pending", "due"]:
    """Art. 4: "En cas d'annulation d'une séance de la part de l'Etablissement et sans report
    possible de la part du praticien, la prestation sera due."

    Cancelled by the practitioner, or under a contract without the clause: ``cancelled``,
    never due. By the establishment: ``report-pending`` while a report is possible (the
    practitioner then moves it, or records that none is possible), ``due`` when none is
    (``report`` false, or ``no_report`` recorded).
    """
    if by != "establishment" or not cancellation_clause(convention):
        return "cancelled"
    if no_report or not report:
        return "due"
    return "report-pending"


# --- payment (art. 4, art. 9.2; code de la commande publique) ------------------------------

#: Art. D2192-35 code de la commande publique: the fixed recovery indemnity a late public
#: buyer owes, of right, on top of the interest.
RECOVERY_INDEMNITY = Decimal("40.00")
#: Art. R2192-31: the ECB rate is raised by eight points.
LATE_INTEREST_POINTS = Decimal("8")


def payment_period_days(convention: Convention) -> int:
    """Art. R2192-10 and R2192-11 code de la commande publique: a public buyer pays within
    30 days of receiving the invoice (the State, local authorities and their public bodies,
    a CCAS included), 50 days for a public health establishment; the convention's
    ``payment_days`` when it says otherwise."""
    if convention.payment_days is not None:
        return convention.payment_days
    return 50 if convention.establishment.kind == "public-health-establishment" else 30


def payment_period_article(convention: Convention) -> str:
    """The article of the code de la commande publique that sets the buyer's payment period:
    R2192-11 for a public health establishment (50 days), R2192-10 for the other public
    buyers (30 days); a period the convention sets (``payment_days``) is bounded by it."""
    if convention.establishment.kind == "public-health-establishment":
        return "R2192-11"
    return "R2192-10"


def payment_due(received: date, days: int) -> date:
    """Art. R2192-12: the payment period runs from the day the buyer receives the invoice (on
    Chorus Pro, the day it is made available to the buyer: its deposit)."""
    return received + timedelta(days=days)


def half_year_start(day: date) -> date:
    """The first day of the half-year of ``day``: 1 January or 1 July."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def ecb_rate_in_force(rates: Iterable[tuple[date, Decimal]], day: date) -> Decimal | None:
    """The ECB main refinancing rate in force on ``day``: the last change on or before it."""
    found = [(since, rate) for since, rate in rates if since <= day]
    return max(found)[1] if found else None


def late_payment_rate(rates: Iterable[tuple[date, Decimal]], due: date) -> Decimal | None:
    """Art. R2192-31: the rate of moratorium interest is the ECB main refinancing rate in force
    on the first day of the half-year in which the interest began to run (the day after the
    due date), raised by eight points (None when the table does not reach that day)."""
    rate = ecb_rate_in_force(rates, half_year_start(due + timedelta(days=1)))
    return None if rate is None else rate + LATE_INTEREST_POINTS


def moratorium_interest(amount: Decimal, rate: Decimal, days_late: int) -> Decimal:
    """Art. R2192-32: simple interest on the amount due, for each day late, on 365 days,
    rounded to the cent (half up)."""
    if days_late <= 0:
        return Decimal("0.00")
    value = amount * rate / 100 * days_late / 365
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- purchase orders and framework agreements ----------------------------------------------


def order_maximum_problem(
    number: str, consumed: Decimal, amount: Decimal, maximum: Decimal
) -> str | None:
    """A purchase order is never invoiced beyond its maximum (accord-cadre "avec maximum")."""
    if consumed + amount > maximum:
        return (
            f"order {number}: {consumed} EUR HT already invoiced + {amount} EUR HT "
            f"would exceed its maximum of {maximum} EUR HT"
        )
    return None


def order_warning(number: str, consumed: Decimal, maximum: Decimal) -> str | None:
    """A warning once :data:`ORDER_WARNING_SHARE` (80 %) of an order's maximum is invoiced."""
    if maximum and consumed >= maximum * ORDER_WARNING_SHARE:
        share = (consumed * 100 / maximum).quantize(Decimal("1"))
        return (
            f"order {number}: {share} % of its maximum ({maximum} EUR HT) is invoiced "
            f"({consumed} EUR HT)"
        )
    return None


def yearly_ceiling_problem(
    committed: Decimal, amount: Decimal, maximum: Decimal, what: str, where: str
) -> str | None:
    """Deliberation of 9 May 2023: each lot has a yearly maximum ("montant maximum HT par
    an"); an order that would bring a year's committed amount over it is refused."""
    total = committed + amount
    if total <= maximum:
        return None
    return (
        f"{where}: {what} ({amount:.2f} EUR HT) would bring the committed amount to "
        f"{total:.2f} EUR HT, over the yearly maximum {maximum:.2f} EUR HT"
    )


def overall_ceiling_problem(
    committed: Decimal, amount: Decimal, maximum: Decimal | None, what: str, where: str
) -> str | None:
    """Deliberation of 9 May 2023: "un montant maximum de 500 000 € HT par an" for the three
    lots together: an order that would bring the year's committed amount of every lot over
    the agreement's overall yearly maximum is refused (no overall maximum: no limit)."""
    if maximum is None:
        return None
    return yearly_ceiling_problem(committed, amount, maximum, what, where)


def estimate_passed(committed: Decimal, estimate: Decimal | None) -> bool:
    """The yearly estimate ("montant estimé HT par an") is not a limit: past it, a warning."""
    return estimate is not None and committed > estimate


# --- agreement years ------------------------------------------------------------------------


def agreement_year(start: date, day: date) -> int:
    """Deliberation of 9 May 2023: the amounts are "HT par an" of an agreement that runs "à
    compter du 19 février 2024": agreement year 1 runs from the start for 12 months
    (2024-02-19 to 2025-02-18), year 2 the next 12 months, renewal years included. The year
    of ``day`` (1, 2...); 0 before the start."""
    if day < start:
        return 0
    months = (day.year - start.year) * 12 + day.month - start.month
    years = months // 12
    while years > 0 and start + relativedelta(months=12 * years) > day:
        years -= 1
    return years + 1


def agreement_year_bounds(start: date, year: int) -> tuple[date, date]:
    """The first and last day of agreement year ``year`` (1-based): 12 months from the start,
    each year ending the day before the next begins (a 29 February start included)."""
    first = _years_after(start, year - 1)
    after = _years_after(start, year)
    return first, after if after == date.max else after - timedelta(days=1)


def _years_after(start: date, years: int) -> date:
    """``start`` plus ``years`` years (month arithmetic), or the last date there is."""
    try:
        return start + relativedelta(months=12 * years)
    except (ValueError, OverflowError):
        return date.max


def agreement_years(start: date, until: date) -> list[tuple[int, date, date]]:
    """Every agreement year from ``start`` to ``until`` (the agreement's last possible day,
    renewal included): (number, first day, last day), the last one cut at ``until``."""
    years = []
    for year in range(1, agreement_year(start, until) + 1):
        first, last = agreement_year_bounds(start, year)
        years.append((year, first, min(last, until)))
    return years


# --- numbers (invoices, credit notes, purchase orders) -------------------------------------


def next_in_series(used: Iterable[int]) -> int:
    """CGI art. 242 nonies A: numbers follow "une séquence chronologique et continue": the
    next one is the highest used + 1 (never a gap, never a reuse). Shared by invoices, credit
    notes and purchase orders."""
    return max(used, default=0) + 1


def series_gaps(used: Iterable[int]) -> tuple[list[tuple[int, int, int]], list[int]]:
    """What breaks a continuous series: the runs of missing numbers, each as (first missing,
    last missing, the number used after them), and the numbers used more than once."""
    ordered = sorted(used)
    runs, twice = [], []
    expected = 1
    for seq in ordered:
        if seq > expected:
            runs.append((expected, seq - 1, seq))
        elif seq < expected and seq not in twice:
            twice.append(seq)
        expected = max(expected, seq + 1)
    return runs, twice
