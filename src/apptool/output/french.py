"""French formats for documents meant for the establishment (babel): dates, amounts, slots,
durations and bank details.

``mardi 13 mai 2025``, ``13/05/2025``, ``1 234,56 €`` (babel's French separators: a narrow
no-break space between thousands, a no-break space before the euro sign), ``9h00–10h30``,
``1 h 30``, ``FR76 3000 6000 0112 3456 7890 189``.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal

LOCALE = "fr_FR"


def long_date(day: date) -> str:
    """``mardi 13 mai 2025``; the first of the month is ``1er``: ``mardi 1er avril 2025``."""
    from babel.dates import format_date  # lazy: babel's locale data only when French text is made

    if day.day == 1:
        return str(format_date(day, "EEEE '1er' MMMM y", locale=LOCALE))
    return str(format_date(day, "EEEE d MMMM y", locale=LOCALE))


def short_date(day: date) -> str:
    """``13/05/2025``."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def month_name(year: int, month: int) -> str:
    """``mai 2025``."""
    from babel.dates import format_date  # lazy: babel's locale data only when French text is made

    return str(format_date(date(year, month, 1), "MMMM y", locale=LOCALE))


def of(words: str) -> str:
    """``de`` before ``words``, elided before a vowel: ``de mai 2025``, ``d'octobre 2025``."""
    return f"d'{words}" if words[:1].lower() in "aeiouyéèêàâîôû" and words[:1] else f"de {words}"


def euros(amount: Decimal) -> str:
    """``1 234,56 €``."""
    # lazy: babel's locale data only when French text is made
    from babel.numbers import format_currency

    return str(format_currency(amount, "EUR", locale=LOCALE))


def number(value: Decimal) -> str:
    """``1,50``: a quantity with two decimals."""
    # lazy: babel's locale data only when French text is made
    from babel.numbers import format_decimal

    return str(format_decimal(value, format="#,##0.00", locale=LOCALE))


def duration(total_minutes: int) -> str:
    """``1 h 30``, ``2 h``, ``45 min``."""
    hours, mins = divmod(total_minutes, 60)
    if not hours:
        return f"{mins} min"
    return f"{hours} h {mins:02d}" if mins else f"{hours} h"


def hour(value: time) -> str:
    """``9h00``: a time of day as the convention writes its slots."""
    return f"{value.hour}h{value.minute:02d}"


def time_span(start: time, end: time) -> str:
    """``9h00–10h30``: the one way documents write a slot."""
    return f"{hour(start)}–{hour(end)}"


def iban(value: str) -> str:
    """``FR76 3000 6000 0112 3456 7890 189``: an IBAN as a reader copies it, in groups of four
    (however it was written); the e-invoice carries it without spaces."""
    compact = re.sub(r"[\s.-]", "", value).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
