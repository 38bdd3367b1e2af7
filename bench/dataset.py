"""A realistic data set for the benchmarks, reproducible from its seed: members' portfolios
of records with their event history, and past inquiries.

Every row is what the service itself would have stored had the members reported the same
history through `POST /v1/records`: subject keys are `subject_key(K_server, token)`, the
snapshot and `content_hash` are built like `registry.records.validation`, and the derived
columns (`ever_delinquent`, `delinquency_ended_on`, `expires_on`) replay the records
upsert's rules over each record's versions (tests/benchmarks/test_bench_smoke.py checks both against
the service).

The generator streams: borrowers are made in chunks of `CHUNK_SUBJECTS`, each from its own
seeded generator, and a chunk's rows (records, events, inquiries) come out in COPY column
order before the next chunk is made, so memory stays flat whatever the size (`python -m
bench.dataset` prints the peak RSS). A borrower's token follows from the seed and its
number alone, so any borrower can be named without generating the others. Within a chunk
the records come one member after another, so a borrower's accounts at different lenders
lie apart on disk as they would after years of separate reports; the loader puts the
inquiries in time order (bench/database.py)."""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

import orjson

from registry.core.subjects import subject_key
from registry.records.currencies import MINOR_UNITS
from registry.records.vocabulary import DELINQUENT_SEVERITY, SEVERITY

RECORD_COLUMNS = (
    "id",
    "member_id",
    "account_ref",
    "subject_key",
    "subject_type",
    "product",
    "status",
    "collection_stage",
    "currency",
    "principal_minor",
    "outstanding_minor",
    "overdue_minor",
    "opened_on",
    "delinquent_since",
    "notice_sent_on",
    "closed_on",
    "as_of",
    "branch_code",
    "last_collection_action_on",
    "recovered_minor",
    "arrangement",
    "ever_delinquent",
    "delinquency_ended_on",
    "expires_on",
    "disputed",
    "withdrawn_at",
    "content_hash",
    "version",
    "created_at",
    "updated_at",
    "names_vehicle",
)  # `severity` and `uncollected` are generated columns: PostgreSQL computes them
_CONTENT_HASH = RECORD_COLUMNS.index("content_hash")
_NAMES_VEHICLE = RECORD_COLUMNS.index("names_vehicle")
EVENT_COLUMNS = (
    "record_id",
    "member_id",
    "subject_key",
    "kind",
    "version",
    "status",
    "severity",
    "as_of",
    "snapshot",
    "at",
)
INQUIRY_COLUMNS = ("member_id", "subject_key", "purpose", "hard", "consent_ref", "at")
PARTY_COLUMNS = ("record_id", "subject_key", "member_id", "subject_type", "role")
COLLATERAL_COLUMNS = ("record_id", "member_id", "kind", "vehicle_key")

LOOKUP_SIZE = 1000

# Shares in percent. Tiers: most borrowers pay, some wobble, a few are in real trouble;
# one borrower's accounts share a tier, so delinquencies cluster as they do in life.
TIER_SHARES = {0: 80, 1: 15, 2: 5}
STATUS_SHARES = {
    0: {
        "current": 86,
        "settled": 10,
        "restructured": 0.5,
        "dpd_1_30": 2.5,
        "dpd_31_60": 0.6,
        "dpd_61_90": 0.2,
        "dpd_91_180": 0.1,
        "dpd_over_180": 0.05,
        "written_off": 0.05,
    },
    1: {
        "current": 55,
        "settled": 8,
        "restructured": 5,
        "dpd_1_30": 15,
        "dpd_31_60": 8,
        "dpd_61_90": 4,
        "dpd_91_180": 3,
        "dpd_over_180": 1.5,
        "written_off": 0.5,
    },
    2: {
        "current": 20,
        "settled": 3,
        "restructured": 7,
        "dpd_1_30": 10,
        "dpd_31_60": 12,
        "dpd_61_90": 12,
        "dpd_91_180": 14,
        "dpd_over_180": 12,
        "written_off": 10,
    },
}
INDIVIDUAL_PRODUCTS = {
    "consumer_loan": 32,
    "credit_card": 28,
    "auto_loan": 16,
    "mortgage": 12,
    "other": 6,
    "financial_lease": 3,
    "enterprise_loan": 2,
    "project_finance": 1,
}
ENTERPRISE_PRODUCTS = {
    "enterprise_loan": 45,
    "financial_lease": 20,
    "project_finance": 10,
    "auto_loan": 10,
    "credit_card": 5,
    "other": 10,
}
ENTERPRISE_SHARE = 0.1
CURRENCY_SHARES = {"CNY": 94, "USD": 3, "HKD": 1.5, "EUR": 1, "JPY": 0.5}
# Value of one major unit of the currency in CNY, to keep amounts comparable.
CNY_PER_UNIT = {"CNY": 1.0, "USD": 7.1, "HKD": 0.91, "EUR": 7.7, "JPY": 0.048}
# Principal range in CNY, and longest tenor in days, by product.
PRINCIPAL_RANGE = {
    "mortgage": (300_000, 3_000_000),
    "auto_loan": (50_000, 400_000),
    "consumer_loan": (5_000, 200_000),
    "credit_card": (5_000, 100_000),
    "enterprise_loan": (500_000, 20_000_000),
    "project_finance": (5_000_000, 100_000_000),
    "financial_lease": (100_000, 5_000_000),
    "other": (1_000, 100_000),
}
TENOR_DAYS = {
    "mortgage": 7300,
    "auto_loan": 1825,
    "consumer_loan": 1095,
    "credit_card": 3650,
    "enterprise_loan": 1825,
    "project_finance": 5475,
    "financial_lease": 1825,
    "other": 730,
}
# Days past due at `as_of` for each delinquent status.
DPD_DAYS = {
    "dpd_1_30": (1, 30),
    "dpd_31_60": (31, 60),
    "dpd_61_90": (61, 90),
    "dpd_91_180": (91, 180),
    "dpd_over_180": (181, 540),
    "written_off": (181, 1100),
}
DPD_BUCKETS = ("dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_180", "dpd_over_180")
STAGE_SHARES = {
    "dpd_1_30": {"none": 70, "reminder": 30},
    "dpd_31_60": {"none": 40, "reminder": 40, "negotiation": 15, "agency": 5},
    "late": {"none": 20, "negotiation": 20, "agency": 30, "legal_action": 20, "restructuring": 5, "repossession": 5},
    "written_off": {"none": 20, "agency": 40, "legal_action": 30, "closed": 10},
}
# Versions (reports accepted) per record: most accounts were reported once or twice.
VERSION_SHARES = {1: 55, 2: 22, 3: 12, 4: 6, 5: 3, 6: 2}
# Accounts per borrower before the total is adjusted to the requested record count.
ACCOUNT_SHARES = {1: 50, 2: 25, 3: 12, 4: 6, 5: 3, 6: 2, 8: 1.5, 12: 0.5}
CURED_SHARE = {"current": 0.08, "settled": 0.3, "restructured": 0.8}  # had a delinquency that ended
CLOSED_CURRENT_SHARE = 0.12
WORSE_BEFORE_SHARE = 0.2  # delinquent accounts whose previous report was one bucket worse
# Collection outcomes of a delinquent account's latest report: a hardship arrangement, a
# recent collection action (in the 30 days up to as_of; else an older one or none), money
# recovered. The rest sit uncollected, which is what the scorecards are for.
ARRANGEMENT_SHARE = 0.08
ARRANGEMENTS = ("payment_plan", "extension", "restructure")
RECENT_ACTION_SHARE = 0.45
OLD_ACTION_SHARE = 0.2
RECOVERED_SHARE = 0.3
BRANCHES_PER_MEMBER = 10
WITHDRAWN_SHARE = 0.004
DISPUTED_SHARE = 0.003  # flagged as a dispute resolved `unverifiable` leaves a record (no deadline)
HARD_INQUIRY_SHARE = 0.75
INQUIRY_HISTORY_DAYS = 365
NEGATIVE = DELINQUENT_SEVERITY
CHUNK_SUBJECTS = 10_000  # borrowers generated at a time (part of what the seed reproduces)
# 2: streamed in chunks, ordered record ids, inquirers that hold a live record; 3: collection
# outcomes; 4: guarantors and co-borrowers, and the vehicles of auto loans.
GENERATOR_VERSION = 4
# Guarantees: a share of enterprise and project accounts name a party, clustered: a party
# goes on guaranteeing the next guaranteed account with this chance (groups of 4 on average).
GUARANTEED_PRODUCTS = ("enterprise_loan", "project_finance")
GUARANTEE_SHARE = 0.1
SAME_GUARANTOR = 0.75
CO_BORROWER_SHARE = 0.2
# Every auto loan names its vehicle; this share of them names a car already pledged to
# another member (a double pledge).
DOUBLE_PLEDGE_SHARE = 0.005
# Auto loans are about 15% of the accounts (individual and enterprise products together); a
# vehicle query pool takes a third of that from each chunk, cars every chunk surely holds.
SURE_CAR_SHARE = 0.05


@dataclass(frozen=True)
class DatasetSpec:
    """What to generate; the same spec and seed give the same rows (for the same server key)."""

    records: int = 1_000_000
    subjects: int = 500_000
    members: int = 50
    seed: int = 20261128
    reference_date: date = field(default_factory=lambda: datetime.now(UTC).date())
    inquiries_per_subject: float = 1.0
    hard_inquiry_share: float = HARD_INQUIRY_SHARE
    withdrawn_share: float = WITHDRAWN_SHARE
    disputed_share: float = DISPUTED_SHARE
    guarantee_share: float = GUARANTEE_SHARE
    double_pledge_share: float = DOUBLE_PLEDGE_SHARE

    def __post_init__(self) -> None:
        if self.subjects < 1 or self.members < 2 or self.records < self.subjects:
            raise ValueError("need at least one subject, two members and one record per subject")

    def description(self) -> dict:
        """What identifies the generated rows (a loaded database is reused only for the same)."""
        return {
            **asdict(self),
            "reference_date": self.reference_date.isoformat(),
            "generator": GENERATOR_VERSION,
            "chunk_subjects": CHUNK_SUBJECTS,
        }


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    code: str


def _lookup(shares: dict, size: int = LOOKUP_SIZE) -> tuple:
    """A table to draw from with one random number: value i appears in proportion to its share."""
    total = sum(shares.values())
    table: list = []
    bounds = list(accumulate(shares.values()))
    values = list(shares)
    for i in range(size):
        point = (i + 0.5) * total / size
        table.append(values[next(k for k, b in enumerate(bounds) if point < b)])
    return tuple(table)


def _pick(table: tuple, rng: random.Random):
    return table[int(rng.random() * len(table))]


def _between(rng: random.Random, low: int, high: int) -> int:
    """`rng.randint(low, high)`, at a quarter of the cost."""
    return low + int(rng.random() * (high - low + 1))


STATUS_TABLES = {tier: _lookup(shares) for tier, shares in STATUS_SHARES.items()}
PRODUCT_TABLES = {False: _lookup(INDIVIDUAL_PRODUCTS), True: _lookup(ENTERPRISE_PRODUCTS)}
CURRENCY_TABLE = _lookup(CURRENCY_SHARES)
STAGE_TABLES = {key: _lookup(shares) for key, shares in STAGE_SHARES.items()}
VERSION_TABLE = _lookup(VERSION_SHARES)
ACCOUNT_TABLE = _lookup(ACCOUNT_SHARES)
TIER_TABLE = _lookup(TIER_SHARES)


def money(minor: int, digits: int) -> str:
    """`registry.records.validation.format_minor`, without Decimal (it runs millions of times)."""
    if digits == 0:
        return str(minor)
    unit = 10**digits
    return f"{minor // unit}.{minor % unit:0{digits}d}"


def plus_five_years(day: date) -> date:
    """`day + interval '5 years'` as PostgreSQL computes it (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 5)
    except ValueError:
        return day.replace(year=day.year + 5, day=28)


def _bucket(days_past_due: int) -> str:
    for status in DPD_BUCKETS:
        if days_past_due <= DPD_DAYS[status][1]:
            return status
    return DPD_BUCKETS[-1]


def _stage(status: str, rng: random.Random) -> str:
    if status in ("dpd_1_30", "dpd_31_60", "written_off"):
        return _pick(STAGE_TABLES[status], rng)
    return _pick(STAGE_TABLES["late"], rng)


@dataclass(slots=True)
class Report:
    """One accepted version of an account, as the member reported it (dates as ordinals)."""

    status: str
    collection_stage: str
    outstanding: int
    overdue: int
    delinquent_since: int | None
    notice_sent_on: int | None
    closed_on: int | None
    as_of: int
    branch_code: str | None = None
    last_action: int | None = None
    recovered: int = 0
    arrangement: str = "none"


@dataclass(frozen=True, slots=True)
class Derived:
    ever_delinquent: bool
    delinquency_ended_on: int | None
    expires_on: date | None


def derive(reports: Sequence[Report]) -> Derived:
    """The derived columns after the upsert applied `reports` in order (see the
    `UPSERT` statement of registry/records/repository.py: insert arm, then update arm)."""
    ever = False
    ended: int | None = None
    previous: int | None = None
    base: int | None = None
    for report in reports:
        severity = SEVERITY[report.status]
        negative = severity >= NEGATIVE
        was_delinquent = negative or report.delinquent_since is not None
        if was_delinquent and report.closed_on is not None:
            ended_now = report.closed_on
        elif not negative and report.delinquent_since is not None:
            ended_now = report.as_of
        else:
            ended_now = None
        if previous is None:
            ever, ended = was_delinquent, ended_now
        else:
            ever = ever or was_delinquent
            if negative:
                ended = report.closed_on
            elif previous >= NEGATIVE:
                ended = report.closed_on if report.closed_on is not None else report.as_of
            elif ended is None:
                ended = ended_now
        base = ended if ended is not None else (report.closed_on if not negative else None)
        previous = severity
    return Derived(ever, ended, plus_five_years(date.fromordinal(base)) if base is not None else None)


def ordered_uuid(moment: datetime, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 for `moment`, of the form the service gives new records (migration 0009:
    48 bits of Unix milliseconds, the version, then random bits with the variant)."""
    millis = int(moment.timestamp() * 1000)
    return uuid.UUID(
        int=(millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    )


@dataclass(slots=True)
class Held:
    """One record of a borrower, as an inquiry needs to know it: who holds it, and when it was live."""

    member: int
    created_at: datetime
    withdrawn_at: datetime | None
    expires_on: date | None

    def live_at(self, moment: datetime) -> bool:
        return (
            self.created_at <= moment
            and (self.withdrawn_at is None or self.withdrawn_at > moment)
            and (self.expires_on is None or self.expires_on > moment.date())
        )


# records, events, inquiries, parties, collateral (rows in the COLUMNS order of each)
Chunk = tuple[list[tuple], list[tuple], list[tuple], list[tuple], list[tuple]]


@dataclass
class Links:
    """The parties and vehicles of one chunk's accounts, drawn from a generator of their own
    (so the records' rows are those of a data set without them)."""

    rng: random.Random
    prefix: str
    keys: list[bytes]
    enterprise: list[bool]
    guarantee_share: float
    double_pledge_share: float
    guarantor: int | None = None
    vehicles: list[tuple[str, bytes, int]] = field(default_factory=list)  # token, key, member

    def parties(self, product: str, borrower: int) -> list[tuple[bytes, str, str]]:
        """(subject key, subject type, role) of the account's parties: none, or one."""
        rng = self.rng
        if product not in GUARANTEED_PRODUCTS or rng.random() >= self.guarantee_share or len(self.keys) < 2:
            return []
        if self.guarantor is None or self.guarantor == borrower or rng.random() >= SAME_GUARANTOR:
            g = int(rng.random() * (len(self.keys) - 1))  # anyone in the chunk but the borrower
            self.guarantor = g + 1 if g >= borrower else g
        g = self.guarantor
        role = "co_borrower" if rng.random() < CO_BORROWER_SHARE else "guarantor"
        return [(self.keys[g], "enterprise" if self.enterprise[g] else "individual", role)]

    def vehicle(self, product: str, m: int, server_key: bytes) -> tuple[str, bytes] | None:
        """The (vin token, key) of an auto loan's car: a new car, or now and then one already
        pledged to another member."""
        if product != "auto_loan":
            return None
        rng = self.rng
        if rng.random() < self.double_pledge_share:
            elsewhere = [v for v in self.vehicles if v[2] != m]
            if elsewhere:
                token, key, _ = elsewhere[int(rng.random() * len(elsewhere))]
                return token, key
        token = vehicle_token(self.prefix, len(self.vehicles))
        key = subject_key(server_key, token)
        self.vehicles.append((token, key, m))
        return token, key


def vehicle_token(prefix: str, n: int) -> str:
    """The `vin` token of a chunk's `n`-th car (from the seed, the chunk and `n` alone)."""
    return hashlib.sha256(f"{prefix}{n}".encode()).hexdigest()


def _share(total: int, part: int, whole: int) -> int:
    """The integer part of `total` falling to the first `part` of `whole` (sums exactly)."""
    return total * part // whole


class Dataset:
    """The borrowers (tokens and keys, by number), who reports them, and the rows to load."""

    def __init__(self, spec: DatasetSpec, server_key: bytes, members: Sequence[Member]) -> None:
        if len(members) != spec.members:
            raise ValueError(f"the spec has {spec.members} members, {len(members)} given")
        self.spec = spec
        self.members = list(members)
        self._server_key = server_key
        self._token_prefix = f"{spec.seed}:subject:".encode()
        self._reference = spec.reference_date.toordinal()
        self._reference_time = datetime.combine(spec.reference_date, datetime.min.time(), UTC)
        self._midnights: dict[int, datetime] = {}
        self._dates: dict[int, date] = {}
        self._isos: dict[int, str] = {}
        weights = [1 / (m + 1) ** 0.8 for m in range(spec.members)]  # a few large lenders, many small ones
        self._member_weights = list(accumulate(weights))

    # Borrowers, by number -------------------------------------------------------------

    def token(self, s: int) -> str:
        """Borrower `s`'s token (64 hex digits), from the seed and `s` alone."""
        return hashlib.sha256(self._token_prefix + str(s).encode()).hexdigest()

    def key(self, s: int) -> bytes:
        return subject_key(self._server_key, self.token(s))

    def vehicle_tokens(self, chunk: int, count: int) -> list[str]:
        """The vin tokens of the first `count` cars of a chunk (to name them in a report)."""
        return [vehicle_token(f"{self.spec.seed}:vehicle:{chunk}:", n) for n in range(count)]

    def unknown_tokens(self, count: int) -> list[str]:
        """Tokens of borrowers the registry has never heard of (a first-time applicant)."""
        prefix = f"{self.spec.seed}:unknown:".encode()
        return [hashlib.sha256(prefix + str(n).encode()).hexdigest() for n in range(count)]

    def query_pool(self, size: int, unknown_share: float = 0.1) -> list[str]:
        """`size` distinct tokens in a fixed random order, the subjects every side of a benchmark
        asks about: reported borrowers, and in `unknown_share` borrowers nobody reported."""
        rng = random.Random(f"{self.spec.seed}:queries")
        n_unknown = int(size * unknown_share)
        known = rng.sample(range(self.spec.subjects), min(self.spec.subjects, size - n_unknown))
        chosen = [self.token(s) for s in known] + self.unknown_tokens(n_unknown)
        rng.shuffle(chosen)
        return chosen

    def vehicle_pool(self, size: int, unknown_share: float = 0.1) -> list[str]:
        """Up to `size` distinct vin tokens in a fixed random order, the vehicles every side of
        a vehicle check asks about: cars the data set surely holds (each chunk's first cars, a
        third of the auto loans it is expected to hold) and in `unknown_share` cars nobody
        pledged. Which cars a chunk holds follows from its whole generation, so the pool
        takes the sure ones rather than generating the data set again."""
        spec = self.spec
        chunks = -(-spec.subjects // CHUNK_SUBJECTS)
        sure = max(1, int(spec.records / chunks * SURE_CAR_SHARE))
        rng = random.Random(f"{spec.seed}:vehicle-queries")
        cars = [(c, n) for c in range(chunks) for n in range(sure)]
        known = rng.sample(cars, min(len(cars), size - int(size * unknown_share)))
        n_unknown = int(len(known) * unknown_share / (1 - unknown_share))
        prefix = f"{spec.seed}:unknown-vehicle:"
        chosen = [vehicle_token(f"{spec.seed}:vehicle:{c}:", n) for c, n in known]
        chosen += [vehicle_token(prefix, n) for n in range(n_unknown)]
        rng.shuffle(chosen)
        return chosen

    # The rows, chunk by chunk ------------------------------------------------------------

    def chunks(self) -> Iterator[Chunk]:
        """The rows of each chunk of borrowers in turn: its records (member after member),
        their events, and its borrowers' past inquiries (in no particular order)."""
        spec = self.spec
        next_ref = [0] * spec.members  # each member's account numbers run on across chunks
        for c, first in enumerate(range(0, spec.subjects, CHUNK_SUBJECTS)):
            last = min(first + CHUNK_SUBJECTS, spec.subjects)
            yield self._chunk(c, first, last, next_ref)

    def _chunk(self, c: int, first: int, last: int, next_ref: list[int]) -> Chunk:
        spec = self.spec
        rng = random.Random(f"{spec.seed}:chunk:{c}")
        n = last - first
        enterprise = [rng.random() < ENTERPRISE_SHARE for _ in range(n)]
        tier = [_pick(TIER_TABLE, rng) for _ in range(n)]
        target = _share(spec.records, last, spec.subjects) - _share(spec.records, first, spec.subjects)
        counts = self._account_counts(rng, n, target)
        reporters = rng.choices(range(spec.members), cum_weights=self._member_weights, k=target)
        holders: list[list[int]] = [[] for _ in range(spec.members)]
        at = 0
        for i, count in enumerate(counts):
            for m in reporters[at : at + count]:
                holders[m].append(i)
            at += count
        keys = [self.key(s) for s in range(first, last)]
        held: list[list[Held]] = [[] for _ in range(n)]
        records: list[tuple] = []
        events: list[tuple] = []
        links = Links(
            random.Random(f"{spec.seed}:links:{c}"),
            f"{spec.seed}:vehicle:{c}:",
            keys,
            enterprise,
            spec.guarantee_share,
            spec.double_pledge_share,
        )
        parties: list[tuple] = []
        collateral: list[tuple] = []
        for m, borrowers in enumerate(holders):
            member = self.members[m]
            for i in borrowers:
                account_ref = f"{member.code}-{next_ref[m]:08d}"
                next_ref[m] += 1
                self._account(rng, m, account_ref, keys[i], enterprise[i], tier[i], records, events, held[i])
                self._links(links, i, m, records, events, parties, collateral)
        n_inquiries = _share(int(spec.subjects * spec.inquiries_per_subject), last, spec.subjects) - _share(
            int(spec.subjects * spec.inquiries_per_subject), first, spec.subjects
        )
        number = _share(int(spec.subjects * spec.inquiries_per_subject), first, spec.subjects)
        inquiries = self._inquiries(rng, n_inquiries, number, keys, tier, held)
        return records, events, inquiries, parties, collateral

    def _links(
        self,
        links: Links,
        borrower: int,
        m: int,
        records: list[tuple],
        events: list[tuple],
        parties: list[tuple],
        collateral: list[tuple],
    ) -> None:
        """The account's parties and vehicle: their rows, and in every version's snapshot (and
        so in the record's content hash) as the records service puts them."""
        record = records[-1]
        record_id, member_id, product = record[0], record[1], record[5]
        named = links.parties(product, borrower)
        car = links.vehicle(product, m, self._server_key)
        if not named and car is None:
            return
        extra: dict = {}
        if named:
            extra["parties"] = sorted(
                ({"subject_key": k.hex(), "subject_type": t, "role": r} for k, t, r in named),
                key=lambda p: p["subject_key"],
            )
            parties.extend((record_id, k, member_id, t, r) for k, t, r in named)
        if car is not None:
            extra["collateral"] = {"kind": "vehicle", "vehicle_key": car[1].hex()}
            collateral.append((record_id, member_id, "vehicle", car[1]))
        snapshot = b""
        for e in range(len(events) - 1, -1, -1):
            event = events[e]
            if event[0] != record_id:
                break
            if event[3] == "withdrawn":
                continue
            fields = {**orjson.loads(event[8]), **extra}
            text = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
            snapshot = snapshot or text  # the last report's, which the content hash covers
            events[e] = (*event[:8], text.decode(), *event[9:])
        at = _CONTENT_HASH
        record = (*record[:at], hashlib.sha256(record[3] + snapshot).digest(), *record[at + 1 :])
        records[-1] = (*record[:_NAMES_VEHICLE], car is not None, *record[_NAMES_VEHICLE + 1 :])

    def _account_counts(self, rng: random.Random, n: int, target: int) -> list[int]:
        counts = [_pick(ACCOUNT_TABLE, rng) for _ in range(n)]
        surplus = sum(counts) - target
        while surplus > 0:  # too many accounts: take some from borrowers with several
            i = rng.randrange(n)
            if counts[i] > 1:
                counts[i] -= 1
                surplus -= 1
        while surplus < 0:
            counts[rng.randrange(n)] += 1
            surplus += 1
        return counts

    def _inquiries(
        self, rng: random.Random, count: int, number: int, keys: list[bytes], tier: list[int], held: list[list[Held]]
    ) -> list[tuple]:
        """Past inquiries about the chunk's borrowers: hard ones from any member; soft ones
        (account review, collection) from a member holding a live record of the borrower at
        the time, as the service requires (hard when none does); and bursts of applications to
        several lenders within the last month by troubled borrowers (loan stacking)."""
        spec = self.spec
        rows: list[tuple] = []
        window = INQUIRY_HISTORY_DAYS * 86400
        member_range = range(spec.members)
        ids = [m.id for m in self.members]
        for k in range(count):
            n = number + k
            i = rng.randrange(len(keys))
            at = self._reference_time - timedelta(seconds=rng.randrange(window))
            holders = None
            if rng.random() >= spec.hard_inquiry_share:
                holders = [h.member for h in held[i] if h.live_at(at)]
            if holders:
                purpose = "account_review" if rng.random() < 0.8 else "collection"
                rows.append((ids[rng.choice(holders)], keys[i], purpose, False, None, at))
            else:
                m = rng.choices(member_range, cum_weights=self._member_weights)[0]
                rows.append((ids[m], keys[i], "loan_application", True, f"CONSENT-{n:09d}", at))
            if tier[i] == 2 and rng.random() < 0.3:  # loan stacking: several lenders in a month
                for m in rng.sample(member_range, min(spec.members, _between(rng, 2, 5))):
                    at = self._reference_time - timedelta(seconds=rng.randrange(30 * 86400))
                    rows.append((ids[m], keys[i], "loan_application", True, f"CONSENT-{n:09d}-{m}", at))
        return rows

    # One account --------------------------------------------------------------------

    def _account(
        self,
        rng: random.Random,
        m: int,
        account_ref: str,
        key: bytes,
        enterprise: bool,
        tier: int,
        records: list[tuple],
        events: list[tuple],
        held: list[Held],
    ) -> None:
        reference = self._reference
        status = _pick(STATUS_TABLES[tier], rng)
        product = _pick(PRODUCT_TABLES[enterprise], rng)
        currency = _pick(CURRENCY_TABLE, rng)
        digits = MINOR_UNITS[currency]
        negative = SEVERITY[status] >= NEGATIVE

        closed = None
        if status == "settled" or (status == "current" and rng.random() < CLOSED_CURRENT_SHARE):
            # Recent closures are likelier; those past five years are expired and in no answer.
            closed = reference - int(rng.random() ** 1.5 * 2600)
            as_of = min(reference, closed + _between(rng, 0, 30))
        else:
            as_of = reference - _between(rng, 0, 45)
        end = closed if closed is not None else as_of
        delinquent_since = cured_on = None
        if negative:
            low, high = DPD_DAYS[status]
            delinquent_since = as_of - _between(rng, low, high)
        elif rng.random() < CURED_SHARE.get(status, 0.0):
            delinquent_since = end - _between(rng, 45, 700)
            cured_on = delinquent_since + _between(rng, 15, end - delinquent_since - 5)
        opened = end - _between(rng, 90, TENOR_DAYS[product])
        if delinquent_since is not None and delinquent_since <= opened:
            opened = delinquent_since - _between(rng, 30, 720)
        notice = min(delinquent_since + _between(rng, 1, 10), as_of) if delinquent_since is not None else None

        low, high = PRINCIPAL_RANGE[product]
        principal_major = low * (high / low) ** rng.random() / CNY_PER_UNIT[currency]
        principal = int(principal_major) * 10**digits
        open_outstanding = max(1, int(principal * (0.05 + 0.95 * rng.random())))

        versions = _pick(VERSION_TABLE, rng)
        if cured_on is not None:
            versions = max(versions, 2)
        days = [as_of - 30 * k - _between(rng, 0, 3) for k in range(versions - 1, 0, -1)]
        days = [d for d in days if d > opened]
        if cured_on is not None and not any(notice <= d < cured_on for d in days):  # type: ignore[operator]
            # The delinquency that ended was reported at least once.
            days.append(_between(rng, notice, cured_on - 1))  # type: ignore[arg-type]
            days = sorted(set(d for d in days if d < as_of))

        reports: list[Report] = []
        for k, day in enumerate(days):
            reports.append(
                self._past_report(
                    rng,
                    status,
                    day,
                    delinquent_since,
                    notice,
                    cured_on,
                    principal,
                    open_outstanding + principal * (len(days) - k) // 60,
                )
            )
        if negative:
            overdue = (
                open_outstanding if status == "written_off" else int(open_outstanding * (0.02 + 0.38 * rng.random()))
            )
            final = Report(
                status, _stage(status, rng), open_outstanding, overdue, delinquent_since, notice, None, as_of
            )
            self._collection(rng, final, principal)
            last = reports[-1] if reports else None
            if (
                last is not None
                and last.as_of >= notice
                and status in DPD_BUCKETS[:-1]
                and rng.random() < WORSE_BEFORE_SHARE
            ):
                worse = DPD_BUCKETS[DPD_BUCKETS.index(status) + 1]
                last.status, last.delinquent_since, last.notice_sent_on = worse, delinquent_since, notice
                last.overdue = max(last.overdue, last.outstanding // 5)
        elif closed is not None:
            stage = "closed" if status == "settled" and rng.random() < 0.6 else "none"
            final = Report(status, stage, 0, 0, delinquent_since, notice, closed, as_of)
        else:
            stage = ("restructuring" if rng.random() < 0.7 else "negotiation") if status == "restructured" else "none"
            final = Report(status, stage, open_outstanding, 0, delinquent_since, notice, None, as_of)
        reports.append(final)
        self._rows(
            rng,
            m,
            account_ref,
            key,
            enterprise,
            product,
            currency,
            digits,
            principal,
            opened,
            reports,
            records,
            events,
            held,
        )

    @staticmethod
    def _collection(rng: random.Random, report: Report, principal: int) -> None:
        """What collection did about a delinquent report (see ARRANGEMENT_SHARE)."""
        since = report.delinquent_since
        assert since is not None
        if rng.random() < ARRANGEMENT_SHARE:
            report.arrangement = ARRANGEMENTS[int(rng.random() * len(ARRANGEMENTS))]
        draw = rng.random()
        if draw < RECENT_ACTION_SHARE:
            report.last_action = max(since, report.as_of - _between(rng, 0, 29))
        elif draw < RECENT_ACTION_SHARE + OLD_ACTION_SHARE and report.as_of - since > 31:
            report.last_action = _between(rng, since, report.as_of - 31)
        if rng.random() < RECOVERED_SHARE:
            report.recovered = int(principal * 0.1 * rng.random())

    def _past_report(
        self,
        rng: random.Random,
        status: str,
        day: int,
        delinquent_since: int | None,
        notice: int | None,
        cured_on: int | None,
        principal: int,
        outstanding: int,
    ) -> Report:
        outstanding = min(principal, outstanding)
        if delinquent_since is None or day < notice:  # type: ignore[operator]
            return Report("current", "none", outstanding, 0, None, None, None, day)
        if cured_on is not None and day >= cured_on:
            after = "restructured" if status == "restructured" else "current"
            return Report(after, "none", outstanding, 0, delinquent_since, notice, None, day)
        bucket = _bucket(day - delinquent_since)
        stage = "none" if rng.random() < 0.7 else "reminder"
        return Report(bucket, stage, outstanding, outstanding // 10, delinquent_since, notice, None, day)

    def _at(self, day: int, offset: timedelta) -> datetime:
        """When a report was accepted: the day after its as_of, never after the reference date."""
        day = min(day + 1, self._reference)
        midnight = self._midnights.get(day)
        if midnight is None:
            midnight = self._midnights[day] = datetime.combine(date.fromordinal(day), datetime.min.time(), UTC)
        return midnight + offset

    def _date(self, day: int | None) -> date | None:
        if day is None:
            return None
        value = self._dates.get(day)
        if value is None:
            value = self._dates[day] = date.fromordinal(day)
        return value

    def _iso(self, day: int | None) -> str | None:
        if day is None:
            return None
        value = self._isos.get(day)
        if value is None:
            value = self._isos[day] = date.fromordinal(day).isoformat()
        return value

    def _rows(
        self,
        rng: random.Random,
        m: int,
        account_ref: str,
        key: bytes,
        enterprise: bool,
        product: str,
        currency: str,
        digits: int,
        principal: int,
        opened: int,
        reports: list[Report],
        records: list[tuple],
        events: list[tuple],
        held: list[Held],
    ) -> None:
        member = self.members[m]
        branch = f"{member.code}-B{int(rng.random() * BRANCHES_PER_MEMBER):02d}"
        subject_type = "enterprise" if enterprise else "individual"
        iso, day = self._iso, self._date
        opened_on = iso(opened)
        principal_text = money(principal, digits)
        offset = timedelta(minutes=int(rng.random() * 600))
        created_at = self._at(reports[0].as_of, offset)
        record_id = ordered_uuid(created_at, rng)
        snapshot = b""
        for version, report in enumerate(reports, start=1):
            report.branch_code = branch
            fields = {
                "subject_type": subject_type,
                "account_ref": account_ref,
                "product": product,
                "status": report.status,
                "collection_stage": report.collection_stage,
                "currency": currency,
                "principal_amount": principal_text,
                "outstanding_amount": money(report.outstanding, digits),
                "overdue_amount": money(report.overdue, digits),
                "opened_on": opened_on,
                "delinquent_since": iso(report.delinquent_since),
                "notice_sent_on": iso(report.notice_sent_on),
                "closed_on": iso(report.closed_on),
                "as_of": iso(report.as_of),
                "branch_code": branch,
            }
            # The collection fields appear only when not their default (registry/records/validation.py).
            if report.last_action is not None:
                fields["last_collection_action_on"] = iso(report.last_action)
            if report.recovered:
                fields["recovered_amount"] = money(report.recovered, digits)
            if report.arrangement != "none":
                fields["arrangement"] = report.arrangement
            snapshot = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
            events.append(
                (
                    record_id,
                    member.id,
                    key,
                    "created" if version == 1 else "updated",
                    version,
                    report.status,
                    SEVERITY[report.status],
                    day(report.as_of),
                    snapshot.decode(),
                    self._at(report.as_of, offset),
                )
            )
        final = reports[-1]
        derived = derive(reports)
        version = len(reports)
        updated_at = self._at(final.as_of, offset)
        withdrawn_at = None
        if rng.random() < self.spec.withdrawn_share:
            version += 1
            withdrawn_at = updated_at = updated_at + timedelta(hours=1)
            events.append(
                (
                    record_id,
                    member.id,
                    key,
                    "withdrawn",
                    version,
                    final.status,
                    SEVERITY[final.status],
                    day(final.as_of),
                    "{}",
                    withdrawn_at,
                )
            )
        records.append(
            (
                record_id,
                member.id,
                account_ref,
                key,
                subject_type,
                product,
                final.status,
                final.collection_stage,
                currency,
                principal,
                final.outstanding,
                final.overdue,
                day(opened),
                day(final.delinquent_since),
                day(final.notice_sent_on),
                day(final.closed_on),
                day(final.as_of),
                final.branch_code,
                day(final.last_action),
                final.recovered,
                final.arrangement,
                derived.ever_delinquent,
                day(derived.delinquency_ended_on),
                derived.expires_on,
                rng.random() < self.spec.disputed_share,
                withdrawn_at,
                hashlib.sha256(key + snapshot).digest(),
                version,
                created_at,
                updated_at,
                False,  # names_vehicle: set by _links when the account pledges a car
            )
        )
        held.append(Held(m, created_at, withdrawn_at, derived.expires_on))


def main(argv: list[str] | None = None) -> int:
    """Generate a data set and throw the rows away: its size, the time, and the peak RSS."""
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=main.__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=500_000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args(argv)
    spec = DatasetSpec(records=args.records, subjects=args.subjects, members=args.members, seed=args.seed)
    members = [Member(uuid.UUID(int=n + 1, version=4), f"BM{n:03d}") for n in range(spec.members)]
    started = time.perf_counter()
    records = events = inquiries = 0
    for chunk_records, chunk_events, chunk_inquiries, *_ in Dataset(spec, b"bench" * 8, members).chunks():
        records, events, inquiries = (
            records + len(chunk_records),
            events + len(chunk_events),
            inquiries + len(chunk_inquiries),
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(
        f"{records:,} records, {events:,} events, {inquiries:,} inquiries over {spec.subjects:,} borrowers "
        f"in {time.perf_counter() - started:.1f} s; peak RSS {peak:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
