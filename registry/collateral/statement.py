"""The vehicle check statement (`POST /v1/collateral/exposure`): like the exposure statement,
one round trip that checks the purpose rule and the member's per-minute quota (the same
`exposure` quota: a vehicle counts as a subject), aggregates the live accounts other
institutions hold on each vehicle, and writes the audit row; counts only, never another
institution's identity or row. It runs inside the SECURITY DEFINER function
`registry_collateral_exposure` (migration 0015 keeps a frozen copy under migrations/sql/; a
test proves the copy equals this composition).

A check writes no inquiry row: inquiries count borrowers (loan stacking, subject reports),
and a vehicle is none.

Parameters: $1 member, $2 vehicle keys, $3 purpose, $4 consent_ref, $5 now, $6 today,
$7 requires an own record, $8 client id, $9 request id, $10 audit details, $11 quota."""

from __future__ import annotations

from registry.audit import auditor as audit_sql
from registry.audit.actions import AuditAction
from registry.collateral.repository import pledge_live
from registry.disputes import rules as dispute_rules
from registry.exposure.statement import QUOTA_NAME, QUOTA_WINDOW_SECONDS
from registry.ratelimit import repository as quota_sql
from registry.records import rules as record_rules

_BUCKET = quota_sql.bucket_sql(QUOTA_NAME, "$1::text")
_WINDOW = quota_sql.window_start_sql(QUOTA_WINDOW_SECONDS, "$5::timestamptz")

STATEMENT = f"""WITH vehicles AS (
    SELECT vehicle_key, ord FROM unnest($2::bytea[]) WITH ORDINALITY AS v(vehicle_key, ord)
),
pledges AS (
    SELECT c.vehicle_key, r.member_id, r.severity, r.opened_on, ({pledge_live("r", "$6", "$5")}) AS live
    FROM record_collateral c JOIN records r ON r.id = c.record_id
    WHERE c.vehicle_key = ANY($2::bytea[]) AND {record_rules.held("r", "$6")} AND {dispute_rules.answered("r", "$5")}
),
missing AS (
    SELECT v.ord FROM vehicles v
    WHERE $7 AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.vehicle_key = v.vehicle_key AND p.member_id = $1)
),
{quota_sql.counting_ctes(_BUCKET, _WINDOW, "cardinality($2::bytea[])")},
verdict AS (
    SELECT NOT EXISTS (SELECT 1 FROM missing) AS purpose_ok, (SELECT n FROM used) <= $11 AS within_quota
),
agg AS (
    SELECT vehicle_key,
           count(*) FILTER (WHERE live AND member_id <> $1) AS live_elsewhere,
           count(DISTINCT member_id) FILTER (WHERE live AND member_id <> $1) AS institutions_elsewhere,
           count(*) FILTER (WHERE live AND member_id <> $1 AND {record_rules.delinquent("o")}) AS delinquent_elsewhere,
           max(opened_on) FILTER (WHERE live AND member_id <> $1) AS latest_opened_on,
           count(*) FILTER (WHERE live AND member_id = $1) AS own_accounts
    FROM pledges o GROUP BY 1
),
{
    audit_sql.insert_cte(
        "audited",
        f'''SELECT $1, $8, '{AuditAction.COLLATERAL_EXPOSURE_QUERY.value}', 'collateral',
           CASE WHEN NOT verdict.purpose_ok THEN 403 WHEN NOT verdict.within_quota THEN 429 ELSE 200 END, $9,
           $10::jsonb || jsonb_build_object('refused_vehicles', (SELECT count(*) FROM missing))
    FROM verdict''',
    )
}
SELECT v.ord,
       (SELECT purpose_ok AND within_quota FROM verdict) AS allowed,
       (SELECT within_quota FROM verdict) AS within_quota,
       (SELECT n FROM used) AS quota_used,
       v.ord IN (SELECT ord FROM missing) AS refused,
       a.vehicle_key IS NOT NULL AS found,
       a.live_elsewhere, a.institutions_elsewhere, a.delinquent_elsewhere, a.latest_opened_on, a.own_accounts
FROM vehicles v
LEFT JOIN agg a USING (vehicle_key)
ORDER BY v.ord
"""

# The function's result columns, in the statement's order.
RESULT_COLUMNS = """
    ord bigint, allowed boolean, within_quota boolean, quota_used bigint, refused boolean, found boolean,
    live_elsewhere bigint, institutions_elsewhere bigint, delinquent_elsewhere bigint, latest_opened_on date,
    own_accounts bigint
"""
