"""How long the registry keeps things: inquiries 24 months (negative information's 5 years
are computed per record as `expires_on` by the records upsert)."""

from __future__ import annotations

from datetime import datetime

INQUIRIES_KEPT_MONTHS = 24


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` earlier (clamped to that month's last day)."""
    year, month = divmod(moment.month - 1 - months, 12)
    year += moment.year
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def inquiries_cutoff(now: datetime) -> datetime:
    """Inquiries before this moment are no longer kept."""
    return months_before(now, INQUIRIES_KEPT_MONTHS)
