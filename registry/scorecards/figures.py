"""The scorecard's figures, computed from counted groups (never from rows): one place for
what each figure means, used by the member's scorecard, its branches, its monthly series,
the league table and the thresholds. Also the industry's quartiles and a member's percentile."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from registry.scorecards.repository import BranchGroup, DisputeCounts
from registry.scorecards.schemas import CollectionFigures

# Rates compare like with like; round where they are shown.
DIGITS = 4
# Quartiles and percentiles need at least this many reporting members, so that no single
# member's figure can be read from them.
MIN_PEERS = 5
RATE_FIGURES = ("delinquency_rate", "uncollected_rate", "recovery_rate", "disputes_upheld_share")
COMPARED = ("live_accounts", *RATE_FIGURES[:3], "reporting_age_days", "disputes_upheld_share")


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, DIGITS) if whole else None


def recovery_rate(groups: Iterable[BranchGroup]) -> float | None:
    """recovered / (recovered + overdue) over delinquent accounts. Amounts are compared within
    a currency; a member reporting several currencies gets the mean of each currency's rate
    weighted by its delinquent accounts (one currency: exactly the ratio)."""
    by_currency: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for g in groups:
        sums = by_currency[g.currency]
        sums[0] += g.recovered_minor
        sums[1] += g.overdue_minor
        sums[2] += g.delinquent
    weighted = [(rec / (rec + over), n) for rec, over, n in by_currency.values() if rec + over > 0 and n > 0]
    weight = sum(n for _, n in weighted)
    return round(sum(r * n for r, n in weighted) / weight, DIGITS) if weight else None


def figures(
    groups: Sequence[BranchGroup], newest_as_of: date | None, disputes: Iterable[DisputeCounts], today: date
) -> CollectionFigures:
    """The figures of whatever `groups` cover (a member, a branch), with the newest as_of
    among them and the disputes about their records."""
    live = sum(g.live for g in groups)
    delinquent = sum(g.delinquent for g in groups)
    uncollected = sum(g.uncollected for g in groups)
    resolved = upheld = 0
    for d in disputes:
        resolved += d.resolved
        upheld += d.upheld
    return CollectionFigures(
        live_accounts=live,
        delinquency_rate=_rate(delinquent, live),
        uncollected_rate=_rate(uncollected, delinquent),
        recovery_rate=recovery_rate(groups),
        reporting_age_days=(today - newest_as_of).days if newest_as_of else None,
        disputes_upheld_share=_rate(upheld, resolved),
    )


def quartiles(peers: Sequence[CollectionFigures]) -> dict[str, dict[str, float | None]]:
    """p25, median and p75 of each figure across `peers` (members with a value for it;
    linear interpolation between the closest ranks), or null under MIN_PEERS of them."""
    result: dict[str, dict[str, float | None]] = {"p25": {}, "median": {}, "p75": {}}
    for name in COMPARED:
        values = sorted(v for p in peers if (v := getattr(p, name)) is not None)
        if len(values) < MIN_PEERS:
            cuts: list[float | None] = [None, None, None]
        else:
            cuts = [round(c, DIGITS) for c in statistics.quantiles(values, n=4, method="inclusive")]
        for key, cut in zip(("p25", "median", "p75"), cuts, strict=True):
            result[key][name] = cut
    return result


def percentile(member: CollectionFigures, peers: Sequence[CollectionFigures]) -> dict[str, float | None]:
    """Where the member stands for each figure among `peers` (itself included): the share of
    peers below it plus half of those equal, in percent. 100 is the highest value, which is
    the worst for the delinquency, uncollected and reporting-age figures and the best for the
    recovery rate. Null under MIN_PEERS peers with a value, or without a value of its own."""
    result: dict[str, float | None] = {}
    for name in COMPARED:
        mine = getattr(member, name)
        values = [v for p in peers if (v := getattr(p, name)) is not None]
        if mine is None or len(values) < MIN_PEERS:
            result[name] = None
            continue
        below = sum(1 for v in values if v < mine)
        equal = sum(1 for v in values if v == mine)
        result[name] = round(100 * (below + equal / 2) / len(values), 1)
    return result
