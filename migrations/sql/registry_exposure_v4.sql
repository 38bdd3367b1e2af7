-- registry_exposure, version 4: composed by registry/exposure/statement.py, frozen with migration 0015.
-- A change is a new file and a new migration; tests/exposure prove this copy equals the composition.
WITH subjects AS (
    SELECT subject_key, ord FROM unnest($2::bytea[]) WITH ORDINALITY AS s(subject_key, ord)
),
held AS (
    SELECT r.id, r.subject_key, r.member_id, r.status, r.severity, r.product, r.currency,
           r.overdue_minor, r.outstanding_minor, r.delinquent_since, r.uncollected, r.arrangement, r.disputed,
           r.suppressed, r.dispute_deadline
    FROM records r
    WHERE r.subject_key = ANY($2::bytea[]) AND r.withdrawn_at IS NULL AND (r.expires_on IS NULL OR r.expires_on > $7)
),
live AS (
    SELECT * FROM held h WHERE NOT h.suppressed AND (h.dispute_deadline IS NULL OR h.dispute_deadline > $6)
),
missing AS (
    -- A relationship is any held record of the caller, answered or not; a dispute the caller
    -- filed and that is still open admits `dispute_investigation` too.
    SELECT s.ord FROM subjects s
    WHERE $8 AND NOT EXISTS (SELECT 1 FROM held l WHERE l.subject_key = s.subject_key AND l.member_id = $1)
      AND NOT ($3 = 'dispute_investigation' AND EXISTS (
          SELECT 1 FROM disputes d WHERE d.subject_key = s.subject_key AND d.filed_by = $1 AND d.status = 'open'))
),
counted AS (
    INSERT INTO rate_counters AS c (bucket, window_start, shard, hits)
    VALUES ('exposure:' || $1::text, to_timestamp(floor(extract(epoch FROM $6::timestamptz) / 60) * 60), pg_backend_pid(), cardinality($2::bytea[]))
    ON CONFLICT (bucket, window_start, shard) DO UPDATE SET hits = c.hits + EXCLUDED.hits
    RETURNING hits
),
used AS (
    SELECT (SELECT hits FROM counted) + coalesce((
        SELECT sum(hits) FROM rate_counters
        WHERE bucket = 'exposure:' || $1::text AND window_start = to_timestamp(floor(extract(epoch FROM $6::timestamptz) / 60) * 60) AND shard <> pg_backend_pid()), 0) AS n
),
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
           count(DISTINCT member_id) FILTER (WHERE o.severity >= 3) AS institutions_delinquent,
           count(*) AS accounts_total,
           count(*) FILTER (WHERE o.severity >= 3) AS accounts_delinquent,
           max(severity) AS worst,
           max(delinquent_since) FILTER (WHERE o.severity >= 3) AS latest_delinquent_since,
           count(*) FILTER (WHERE o.uncollected) AS uncollected,
           count(*) FILTER (WHERE o.arrangement <> 'none') AS in_arrangement,
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
    WHERE e.as_of >= ($7::date - interval '24 months')
    GROUP BY 1
),
own AS (
    SELECT subject_key, count(*) AS accounts, count(*) FILTER (WHERE o.severity >= 3) AS delinquent,
           max(severity) AS worst
    FROM live o WHERE member_id = $1 GROUP BY 1
),
contingent_links AS (
    SELECT p.subject_key, p.role, r.severity, r.currency, r.overdue_minor, r.outstanding_minor
    FROM record_parties p JOIN records r ON r.id = p.record_id
    WHERE p.subject_key = ANY($2::bytea[]) AND p.removed_at IS NULL AND r.member_id <> $1
      AND r.withdrawn_at IS NULL AND (r.expires_on IS NULL OR r.expires_on > $7) AND NOT r.suppressed AND (r.dispute_deadline IS NULL OR r.dispute_deadline > $6)
),
contingent AS (
    SELECT subject_key, count(*) AS accounts, count(*) FILTER (WHERE o.severity >= 3) AS delinquent,
           max(severity) AS worst
    FROM contingent_links o GROUP BY 1
),
contingent_roles AS (
    SELECT subject_key, jsonb_object_agg(role, jsonb_build_array(n, d)) AS by_role
    FROM (SELECT subject_key, role, count(*) AS n, count(*) FILTER (WHERE o.severity >= 3) AS d
          FROM contingent_links o GROUP BY 1, 2) x
    GROUP BY 1
),
contingent_amounts AS (
    SELECT subject_key, jsonb_object_agg(currency, jsonb_build_array(overdue, outstanding)) AS amounts
    FROM (SELECT subject_key, currency, sum(overdue_minor) AS overdue, sum(outstanding_minor) AS outstanding
          FROM contingent_links GROUP BY 1, 2) x
    GROUP BY 1
),
hard AS (
    SELECT i.subject_key,
           count(*) FILTER (WHERE i.at > $6::timestamptz - interval '30 days') AS last_30d,
           count(*) AS last_90d,
           count(DISTINCT i.member_id) FILTER (WHERE i.at > $6::timestamptz - interval '30 days')
               AS institutions_30d,
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
hard_inquiry_alerts AS (
    INSERT INTO alerts (member_id, subject_key, subject_sealed, label, kind, status, source_member_id, source_day, at)
    SELECT w.member_id, w.subject_key, w.subject_sealed, w.label, 'hard_inquiry', NULL, $1,
           ($6::timestamptz AT TIME ZONE 'UTC')::date, $6
    FROM (SELECT DISTINCT subject_key FROM subjects) s
    JOIN watches w ON w.subject_key = s.subject_key
    WHERE (SELECT ok FROM allowed) AND $5 AND w.member_id <> $1 AND EXISTS (
        SELECT 1 FROM records watcher_record
        WHERE watcher_record.subject_key = w.subject_key AND watcher_record.member_id = w.member_id
          AND watcher_record.withdrawn_at IS NULL AND (watcher_record.expires_on IS NULL OR watcher_record.expires_on > $7)
    )
    ON CONFLICT (member_id, subject_key, source_member_id, source_day) WHERE kind = 'hard_inquiry' DO NOTHING
    RETURNING id, member_id
),
hard_inquiry_deliveries AS (
    INSERT INTO webhook_deliveries (member_id, alert_id, event, next_attempt_at, created_at)
    SELECT a.member_id, a.id, 'alert', $6, $6
    FROM hard_inquiry_alerts a JOIN webhooks h ON h.member_id = a.member_id
),
audited AS (
    INSERT INTO audit_log (member_id, client_id, action, resource, outcome, request_id, details)
    SELECT $1, $9, 'exposure.query', 'exposure',
           CASE WHEN NOT verdict.purpose_ok THEN 403 WHEN NOT verdict.within_quota THEN 429 ELSE 200 END, $10,
           $11::jsonb || jsonb_build_object('refused_subjects', (SELECT count(*) FROM missing))
    FROM verdict
)
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
       ct.accounts AS contingent_accounts, ct.delinquent AS contingent_delinquent, ct.worst AS contingent_worst,
       ctr.by_role AS contingent_by_role, cta.amounts AS contingent_amounts
FROM subjects s
LEFT JOIN agg a USING (subject_key)
LEFT JOIN by_status bs USING (subject_key)
LEFT JOIN by_product bp USING (subject_key)
LEFT JOIN amounts am USING (subject_key)
LEFT JOIN worst_24m w USING (subject_key)
LEFT JOIN own o USING (subject_key)
LEFT JOIN hard h USING (subject_key)
LEFT JOIN contingent ct USING (subject_key)
LEFT JOIN contingent_roles ctr USING (subject_key)
LEFT JOIN contingent_amounts cta USING (subject_key)
ORDER BY s.ord
