"""SQL of the exposure answer: one statement that checks the purpose rule, aggregates what
other institutions report, records one inquiry per subject (and, for a hard inquiry, an alert to each other member
watching the subject, with its webhook outbox row) and appends the audit row, so
an exposure request costs one database round trip. It returns aggregates only: no other
institution's identity or row leaves this statement."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from registry.monitoring.repository import hard_inquiry_alert_ctes
from registry.records.vocabulary import DELINQUENT_SEVERITY

D = DELINQUENT_SEVERITY

EXPOSURE = f"""
WITH subjects AS (
    SELECT subject_key, ord FROM unnest($2::bytea[]) WITH ORDINALITY AS s(subject_key, ord)
),
held AS (
    SELECT r.id, r.subject_key, r.member_id, r.status, r.severity, r.product, r.currency,
           r.overdue_minor, r.outstanding_minor, r.delinquent_since, r.collection_stage, r.disputed,
           r.suppressed, r.dispute_deadline
    FROM records r
    WHERE r.subject_key = ANY($2::bytea[])
      AND r.withdrawn_at IS NULL
      AND (r.expires_on IS NULL OR r.expires_on > $7)
),
live AS (
    -- Answers leave out records suppressed by an upheld dispute, and records whose dispute
    -- is still unresolved past its deadline (until it is resolved).
    SELECT * FROM held WHERE NOT suppressed AND (dispute_deadline IS NULL OR dispute_deadline > $6)
),
missing AS (
    -- A relationship is any held record of the caller, answered or not; a dispute the caller
    -- filed and that is still open admits `dispute_investigation` too.
    SELECT s.ord FROM subjects s
    WHERE $8 AND NOT EXISTS (SELECT 1 FROM held l WHERE l.subject_key = s.subject_key AND l.member_id = $1)
      AND NOT ($3 = 'dispute_investigation' AND EXISTS (
          SELECT 1 FROM disputes d WHERE d.subject_key = s.subject_key AND d.filed_by = $1 AND d.status = 'open'))
),
allowed AS (
    SELECT NOT EXISTS (SELECT 1 FROM missing) AS ok
),
others AS (
    SELECT * FROM live WHERE member_id <> $1
),
agg AS (
    SELECT subject_key,
           count(DISTINCT member_id) AS institutions_reporting,
           count(DISTINCT member_id) FILTER (WHERE severity >= {D}) AS institutions_delinquent,
           count(*) AS accounts_total,
           count(*) FILTER (WHERE severity >= {D}) AS accounts_delinquent,
           max(severity) AS worst,
           max(delinquent_since) FILTER (WHERE severity >= {D}) AS latest_delinquent_since,
           count(*) FILTER (WHERE severity >= {D} AND collection_stage = 'none' AND delinquent_since < $7::date - 30)
               AS uncollected,
           bool_or(disputed) AS disputed
    FROM others GROUP BY subject_key
),
by_status AS (
    SELECT subject_key, jsonb_object_agg(status, n) AS by_status
    FROM (SELECT subject_key, status, count(*) AS n FROM others GROUP BY 1, 2) x GROUP BY 1
),
by_product AS (
    SELECT subject_key, jsonb_object_agg(product, n) AS by_product
    FROM (SELECT subject_key, product, count(*) AS n FROM others GROUP BY 1, 2) x GROUP BY 1
),
amounts AS (
    SELECT subject_key, jsonb_object_agg(currency, jsonb_build_array(overdue, outstanding)) AS amounts
    FROM (SELECT subject_key, currency, sum(overdue_minor) AS overdue, sum(outstanding_minor) AS outstanding
          FROM others GROUP BY 1, 2) x
    GROUP BY 1
),
worst_24m AS (
    SELECT o.subject_key, max(e.severity) AS worst
    FROM others o JOIN record_events e ON e.record_id = o.id
    WHERE e.as_of >= ($7::date - interval '24 months')
    GROUP BY 1
),
own AS (
    SELECT subject_key, count(*) AS accounts, count(*) FILTER (WHERE severity >= {D}) AS delinquent,
           max(severity) AS worst
    FROM live WHERE member_id = $1 GROUP BY 1
),
hard AS (
    SELECT i.subject_key,
           count(*) FILTER (WHERE i.at > $6::timestamptz - interval '30 days') AS last_30d,
           count(*) AS last_90d,
           count(DISTINCT i.member_id) FILTER (WHERE i.at > $6::timestamptz - interval '30 days') AS institutions_30d,
           count(DISTINCT i.member_id) AS institutions_90d
    FROM inquiries i
    WHERE i.subject_key = ANY($2::bytea[]) AND i.hard AND i.member_id <> $1
      AND i.at > $6::timestamptz - interval '90 days' AND i.at <= $6::timestamptz
    GROUP BY 1
),
recorded AS (
    INSERT INTO inquiries (member_id, subject_key, purpose, hard, consent_ref, at)
    SELECT $1, s.subject_key, $3, $5, $4, $6 FROM subjects s, allowed WHERE allowed.ok
),
{hard_inquiry_alert_ctes(subjects="subjects", allowed="allowed", member="$1", hard="$5", now="$6", today="$7")},
audited AS (
    INSERT INTO audit_log (member_id, client_id, action, resource, outcome, request_id, details)
    SELECT $1, $9, 'exposure.query', 'exposure', CASE WHEN allowed.ok THEN 200 ELSE 403 END, $10,
           $11::jsonb || jsonb_build_object('refused_subjects', (SELECT count(*) FROM missing))
    FROM allowed
)
SELECT s.ord,
       (SELECT ok FROM allowed) AS allowed,
       s.ord IN (SELECT ord FROM missing) AS refused,
       a.institutions_reporting, a.institutions_delinquent, a.accounts_total, a.accounts_delinquent,
       a.worst, a.latest_delinquent_since, a.uncollected, a.disputed,
       bs.by_status, bp.by_product, am.amounts, w.worst AS worst_24m,
       o.accounts AS own_accounts, o.delinquent AS own_delinquent, o.worst AS own_worst,
       h.last_30d, h.last_90d, h.institutions_30d, h.institutions_90d
FROM subjects s
LEFT JOIN agg a USING (subject_key)
LEFT JOIN by_status bs USING (subject_key)
LEFT JOIN by_product bp USING (subject_key)
LEFT JOIN amounts am USING (subject_key)
LEFT JOIN worst_24m w USING (subject_key)
LEFT JOIN own o USING (subject_key)
LEFT JOIN hard h USING (subject_key)
ORDER BY s.ord
"""


async def query(
    pool: asyncpg.Pool,
    *,
    member_id: uuid.UUID,
    subject_keys: list[bytes],
    purpose: str,
    consent_ref: str | None,
    hard: bool,
    requires_own_record: bool,
    now: datetime,
    today: date,
    client_id: str,
    request_id: str | None,
    audit_details: dict[str, Any],
) -> list[asyncpg.Record]:
    return await pool.fetch(
        EXPOSURE,
        member_id, subject_keys, purpose, consent_ref, hard, now, today, requires_own_record,
        client_id, request_id, audit_details,
    )
