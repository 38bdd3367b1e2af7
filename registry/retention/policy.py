"""How long the registry keeps things: inquiries 24 months, and the alerts members were sent
as long (an alert tells of a report or an inquiry about a watched borrower); finished
webhook deliveries 30 days (the delivery log is for troubleshooting). Negative
information's 5 years are computed per record as `expires_on` by the records upsert."""

from __future__ import annotations

from datetime import datetime, timedelta

INQUIRIES_KEPT_MONTHS = 24
ALERTS_KEPT_MONTHS = INQUIRIES_KEPT_MONTHS
DELIVERIES_KEPT = timedelta(days=30)


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


def alerts_cutoff(now: datetime) -> datetime:
    """Alerts raised before this moment are no longer kept."""
    return months_before(now, ALERTS_KEPT_MONTHS)


def deliveries_cutoff(now: datetime) -> datetime:
    """Finished webhook deliveries (delivered, failed, cancelled) created before this moment
    are no longer kept; pending ones are still being retried and stay."""
    return now - DELIVERIES_KEPT
