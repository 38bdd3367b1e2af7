-- registry_collateral_exposure, version 1: composed by registry/collateral/statement.py, frozen with migration 0015.
-- A change is a new file and a new migration; tests/collateral prove this copy equals the composition.
WITH vehicles AS (
    SELECT vehicle_key, ord FROM unnest($2::bytea[]) WITH ORDINALITY AS v(vehicle_key, ord)
),
pledges AS (
    SELECT c.vehicle_key, r.member_id, r.severity, r.opened_on, (r.withdrawn_at IS NULL AND (r.expires_on IS NULL OR r.expires_on > $6) AND NOT r.suppressed AND (r.dispute_deadline IS NULL OR r.dispute_deadline > $5) AND r.status <> 'settled' AND r.closed_on IS NULL) AS live
    FROM record_collateral c JOIN records r ON r.id = c.record_id
    WHERE c.vehicle_key = ANY($2::bytea[]) AND r.withdrawn_at IS NULL AND (r.expires_on IS NULL OR r.expires_on > $6) AND NOT r.suppressed AND (r.dispute_deadline IS NULL OR r.dispute_deadline > $5)
),
missing AS (
    SELECT v.ord FROM vehicles v
    WHERE $7 AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.vehicle_key = v.vehicle_key AND p.member_id = $1)
),
counted AS (
    INSERT INTO rate_counters AS c (bucket, window_start, shard, hits)
    VALUES ('exposure:' || $1::text, to_timestamp(floor(extract(epoch FROM $5::timestamptz) / 60) * 60), pg_backend_pid(), cardinality($2::bytea[]))
    ON CONFLICT (bucket, window_start, shard) DO UPDATE SET hits = c.hits + EXCLUDED.hits
    RETURNING hits
),
used AS (
    SELECT (SELECT hits FROM counted) + coalesce((
        SELECT sum(hits) FROM rate_counters
        WHERE bucket = 'exposure:' || $1::text AND window_start = to_timestamp(floor(extract(epoch FROM $5::timestamptz) / 60) * 60) AND shard <> pg_backend_pid()), 0) AS n
),
verdict AS (
    SELECT NOT EXISTS (SELECT 1 FROM missing) AS purpose_ok, (SELECT n FROM used) <= $11 AS within_quota
),
agg AS (
    SELECT vehicle_key,
           count(*) FILTER (WHERE live AND member_id <> $1) AS live_elsewhere,
           count(DISTINCT member_id) FILTER (WHERE live AND member_id <> $1) AS institutions_elsewhere,
           count(*) FILTER (WHERE live AND member_id <> $1 AND o.severity >= 3) AS delinquent_elsewhere,
           max(opened_on) FILTER (WHERE live AND member_id <> $1) AS latest_opened_on,
           count(*) FILTER (WHERE live AND member_id = $1) AS own_accounts
    FROM pledges o GROUP BY 1
),
audited AS (
    INSERT INTO audit_log (member_id, client_id, action, resource, outcome, request_id, details)
    SELECT $1, $8, 'collateral.exposure.query', 'collateral',
           CASE WHEN NOT verdict.purpose_ok THEN 403 WHEN NOT verdict.within_quota THEN 429 ELSE 200 END, $9,
           $10::jsonb || jsonb_build_object('refused_vehicles', (SELECT count(*) FROM missing))
    FROM verdict
)
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
