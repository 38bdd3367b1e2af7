"""The exposure statement: the one path by which a member sees anything of other members'
records, in one round trip. It checks the purpose rule and the member's per-minute subject
quota, aggregates what other institutions report, writes one inquiry per subject, the
hard-inquiry alerts with their webhook outbox rows, and the audit row, and returns
aggregates only: no other institution's identity or row leaves it.

It is composed here from the rules each domain owns — which records are held and delinquent
and which are uncollected (records), which are left out of answers (disputes), the quota
(ratelimit), the alerts (monitoring), the audit row and its action name (audit) — so none is
copied; the contingent figures (accounts where the subject is a guarantor or co-borrower)
come from the parties' rules (registry/records/parties.py). PostgreSQL runs it inside the
SECURITY DEFINER function `registry_exposure`, which first checks the caller's proof of its
member (registry.core.tenancy); the migration that installs a version keeps a frozen copy
under migrations/sql/, and a test proves the copy equals this composition (a change here is
a new copy and a new migration).

Parameters: $1 member, $2 subject keys, $3 purpose, $4 consent_ref, $5 hard, $6 now,
$7 today, $8 requires an own record, $9 client id, $10 request id, $11 audit details,
$12 subjects-per-minute quota."""

from __future__ import annotations

from registry.audit import auditor as audit_sql
from registry.audit.actions import AuditAction
from registry.disputes import rules as dispute_rules
from registry.monitoring import repository as monitoring_sql
from registry.ratelimit import repository as quota_sql
from registry.records import parties as party_rules
from registry.records import rules as record_rules

# The quota this statement counts: subjects per member per minute.
QUOTA_NAME = "exposure"
QUOTA_WINDOW_SECONDS = 60
# The `record_events` history that `worst_status_24m` reads.
WORST_OVER = "24 months"
INQUIRY_WINDOWS = ("30 days", "90 days")

_BUCKET = quota_sql.bucket_sql(QUOTA_NAME, "$1::text")
_WINDOW = quota_sql.window_start_sql(QUOTA_WINDOW_SECONDS, "$6::timestamptz")
_DELINQUENT = record_rules.delinquent("o")

STATEMENT = f"""WITH subjects AS (
    SELECT subject_key, ord FROM unnest($2::bytea[]) WITH ORDINALITY AS s(subject_key, ord)
),
held AS (
    SELECT r.id, r.subject_key, r.member_id, r.status, r.severity, r.product, r.currency,
           r.overdue_minor, r.outstanding_minor, r.delinquent_since, r.uncollected, r.arrangement, r.disputed,
           r.suppressed, r.dispute_deadline
    FROM records r
    WHERE r.subject_key = ANY($2::bytea[]) AND {record_rules.held("r", "$7")}
),
live AS (
    SELECT * FROM held h WHERE {dispute_rules.answered("h", "$6")}
),
missing AS (
    -- A relationship is any held record of the caller, answered or not; a dispute the caller
    -- filed and that is still open admits `dispute_investigation` too.
    SELECT s.ord FROM subjects s
    WHERE $8 AND NOT EXISTS (SELECT 1 FROM held l WHERE l.subject_key = s.subject_key AND l.member_id = $1)
      AND NOT ($3 = 'dispute_investigation' AND EXISTS (
          SELECT 1 FROM disputes d WHERE d.subject_key = s.subject_key AND d.filed_by = $1 AND d.status = 'open'))
),
{quota_sql.counting_ctes(_BUCKET, _WINDOW, "cardinality($2::bytea[])")},
verdict AS (
    SELECT NOT EXISTS (SELECT 1 FROM missing) AS purpose_ok, (SELECT n FROM used) <= $12 AS within_quota
),
allowed AS (
    SELECT purpose_ok AND within_quota AS ok FROM verdict
),
others AS (
    SELECT * FROM live WHERE member_id <> $1
),
agg AS (
    SELECT subject_key,
           count(DISTINCT member_id) AS institutions_reporting,
           count(DISTINCT member_id) FILTER (WHERE {_DELINQUENT}) AS institutions_delinquent,
           count(*) AS accounts_total,
           count(*) FILTER (WHERE {_DELINQUENT}) AS accounts_delinquent,
           max(severity) AS worst,
           max(delinquent_since) FILTER (WHERE {_DELINQUENT}) AS latest_delinquent_since,
           count(*) FILTER (WHERE {record_rules.uncollected("o")}) AS uncollected,
           count(*) FILTER (WHERE {record_rules.in_arrangement("o")}) AS in_arrangement,
           bool_or(disputed) AS disputed
    FROM others o GROUP BY subject_key
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
    WHERE e.as_of >= ($7::date - interval '{WORST_OVER}')
    GROUP BY 1
),
own AS (
    SELECT subject_key, count(*) AS accounts, count(*) FILTER (WHERE {_DELINQUENT}) AS delinquent,
           max(severity) AS worst
    FROM live o WHERE member_id = $1 GROUP BY 1
),
{party_rules.contingent_ctes(subjects="$2::bytea[]", caller="$1", today="$7", now="$6")},
hard AS (
    SELECT i.subject_key,
           count(*) FILTER (WHERE i.at > $6::timestamptz - interval '{INQUIRY_WINDOWS[0]}') AS last_30d,
           count(*) AS last_90d,
           count(DISTINCT i.member_id) FILTER (WHERE i.at > $6::timestamptz - interval '{INQUIRY_WINDOWS[0]}')
               AS institutions_30d,
           count(DISTINCT i.member_id) AS institutions_90d
    FROM inquiries i
    WHERE i.subject_key = ANY($2::bytea[]) AND i.hard AND i.member_id <> $1
      AND i.at > $6::timestamptz - interval '{INQUIRY_WINDOWS[1]}' AND i.at <= $6::timestamptz
    GROUP BY 1
),
recorded AS (
    INSERT INTO inquiries (member_id, subject_key, purpose, hard, consent_ref, at)
    SELECT $1, s.subject_key, $3, $5, $4, $6 FROM subjects s, allowed WHERE allowed.ok
),
{
    monitoring_sql.hard_inquiry_alert_ctes(
        subjects="subjects", allowed="(SELECT ok FROM allowed)", hard="$5", inquirer="$1", now="$6", today="$7"
    )
},
{
    audit_sql.insert_cte(
        "audited",
        f'''SELECT $1, $9, '{AuditAction.EXPOSURE_QUERY.value}', 'exposure',
           CASE WHEN NOT verdict.purpose_ok THEN 403 WHEN NOT verdict.within_quota THEN 429 ELSE 200 END, $10,
           $11::jsonb || jsonb_build_object('refused_subjects', (SELECT count(*) FROM missing))
    FROM verdict''',
    )
}
SELECT s.ord,
       (SELECT ok FROM allowed) AS allowed,
       (SELECT within_quota FROM verdict) AS within_quota,
       (SELECT n FROM used) AS quota_used,
       s.ord IN (SELECT ord FROM missing) AS refused,
       a.institutions_reporting, a.institutions_delinquent, a.accounts_total, a.accounts_delinquent,
       a.worst, a.latest_delinquent_since, a.uncollected, a.in_arrangement, a.disputed,
       bs.by_status, bp.by_product, am.amounts, w.worst AS worst_24m,
       o.accounts AS own_accounts, o.delinquent AS own_delinquent, o.worst AS own_worst,
       h.last_30d, h.last_90d, h.institutions_30d, h.institutions_90d,
       {party_rules.CONTINGENT_SELECT}
FROM subjects s
LEFT JOIN agg a USING (subject_key)
LEFT JOIN by_status bs USING (subject_key)
LEFT JOIN by_product bp USING (subject_key)
LEFT JOIN amounts am USING (subject_key)
LEFT JOIN worst_24m w USING (subject_key)
LEFT JOIN own o USING (subject_key)
LEFT JOIN hard h USING (subject_key)
{party_rules.CONTINGENT_JOINS}
ORDER BY s.ord
"""

# The function's result columns, in the statement's order.
RESULT_COLUMNS = (
    """
    ord bigint, allowed boolean, within_quota boolean, quota_used bigint, refused boolean,
    institutions_reporting bigint, institutions_delinquent bigint, accounts_total bigint,
    accounts_delinquent bigint, worst smallint, latest_delinquent_since date, uncollected bigint,
    in_arrangement bigint, disputed boolean, by_status jsonb, by_product jsonb, amounts jsonb, worst_24m smallint,
    own_accounts bigint, own_delinquent bigint, own_worst smallint,
    last_30d bigint, last_90d bigint, institutions_30d bigint, institutions_90d bigint,
    """
    + party_rules.CONTINGENT_COLUMNS
    + """
"""
)
