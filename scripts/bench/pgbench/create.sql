-- pgbench script: the SQL one `POST /api/v1/requests` runs (no Idempotency-Key),
-- copied from the statements the server sends (log_statement = all, product as
-- of this commit), in order, one statement per round trip as pgbench sends them
-- (the server sends its transaction's statements in two batches):
--   1. the auth middleware reads the caller (identity actorSQL, prepared);
--   2. casework.Service.Create's reads: category, the new id and ticket
--      number, the enterprise, and the SLA filer's policy and two clock ids;
--   3. its writes: the request, its timeline event, its routing task, and the
--      SLA filer's two clocks with their start events (one statement) and
--      their first deadline tasks (the warnings); then COMMIT;
--   4. the handler reads the SLA block (the clocks with their logs).
-- The calendar is cached by the server (its version re-checked every few
-- seconds), so the script leaves the calendar reads out. Values the server
-- computes in Go (deadlines) are computed here in SQL.
-- Variables come from `load pgbench-vars` (-D): the bench enterprise users are
-- ubase+k with enterprise ebase+k; title/descr/terms are one request text of
-- the same generator the HTTP load uses. Run with -M prepared.
-- pgbench substitutes :name even inside string literals, so no literal here
-- has a ':' followed by a letter or digit (hence concat_ws(':', …)).
-- pgbench's \gset takes one row, so the two clock ids, which the server reads
-- as two rows, are read here as their min and max.
-- bench.sh checks before the runs that one HTTP create and one pass of this
-- script add rows to the same tables; it warns when the product has moved on.
\set k random(0, :nusers - 1)
\set uid :ubase + :k
\set eid :ebase + :k
SELECT u.id, u.username, u.role, coalesce(u.agency_id, 0), coalesce(a.kind, ''), coalesce(u.enterprise_id, 0),
	  u.disabled_at IS NOT NULL
	FROM users u LEFT JOIN agencies a ON a.id = u.agency_id WHERE u.id = :uid;
BEGIN;
SELECT code, name_zh, name_en, description_zh, agency_kind, default_priority, sla_kind, weight, active, sort FROM categories WHERE code = :category AND active;
SELECT nextval(pg_get_serial_sequence('requests', 'id')) AS id, format('GC-%s-%s', :year::int, lpad(n::text, greatest(6, length(n::text)), '0')) AS ticket_no FROM next_ticket_seq(:year::int) AS n \gset
SELECT id, uscc, name, town_code, industry, address, contact_name, contact_phone, grade, uscc_check_override, no_disturb, no_disturb_from, no_disturb_to, no_disturb_basis, created_at, updated_at FROM enterprises WHERE id = :eid;
SELECT id, calendar_id, acknowledge_minutes, resolution_minutes, next_response_minutes, warn_percent FROM sla_policies WHERE active AND (category IS NULL OR category = :category) AND (priority IS NULL OR priority = coalesce(nullif('', ''), (SELECT default_priority FROM categories WHERE code = :category))) AND (sla_kind IS NULL OR sla_kind = (SELECT sla_kind FROM categories WHERE code = :category)) ORDER BY precedence, id LIMIT 1 \gset pol_
SELECT min(id) AS ack_id, max(id) AS res_id FROM (SELECT nextval(pg_get_serial_sequence('sla_clocks', 'id')) FROM generate_series(1, 2)) AS s(id) \gset
INSERT INTO requests (id, ticket_no, enterprise_id, created_by, category, title, description, priority, contact_name, contact_phone, status, version, created_at, updated_at, search_terms) OVERRIDING SYSTEM VALUE VALUES (:id, :ticket_no, :eid, :uid, :category, :title, :descr, 'normal', '', '', 'submitted', 1, now(), now(), :terms);
INSERT INTO request_events (request_id, at, actor_id, kind, internal, data) SELECT r, a, u, k, i, d::jsonb FROM unnest(ARRAY[:id::bigint], ARRAY[now()], ARRAY[:uid::bigint], ARRAY['created'], ARRAY[false], ARRAY[jsonb_build_object('category', :category::text, 'priority', 'normal', 'ticket_no', :ticket_no::text)::text]) AS x(r, a, u, k, i, d);
INSERT INTO outbox (task_key, task_type, queue, payload, process_at, max_retry, timeout_seconds) SELECT k, t, q, p::jsonb, a, r, s FROM unnest(ARRAY[concat_ws(':', 'route', :id::text, '1')], ARRAY[concat_ws(':', 'routing', 'assign')], ARRAY['critical'], ARRAY[jsonb_build_object('request_id', :id::bigint, 'version', 1)::text], ARRAY[NULL::timestamptz], ARRAY[10], ARRAY[20]) AS u(k, t, q, p, a, r, s) ON CONFLICT (task_key) DO NOTHING;
WITH clock AS (INSERT INTO sla_clocks (id, request_id, kind, cycle, policy_id, calendar_id, target_minutes, warn_percent, state, due_at, warn_at, provisional, version, created_at, updated_at) OVERRIDING SYSTEM VALUE SELECT id, :id, kind, 1, :pol_id, :pol_calendar_id, target, :pol_warn_percent, state, due, warn, provisional, 1, now(), now() FROM unnest(ARRAY[:ack_id::bigint, :res_id::bigint], ARRAY['acknowledge', 'resolution'], ARRAY[:pol_acknowledge_minutes::int, :pol_resolution_minutes::int], ARRAY['running', 'running'], ARRAY[now() + interval '1 day', now() + interval '9 days'], ARRAY[now() + interval '20 hours 45 minutes', now() + interval '7 days 1 hour 45 minutes'], ARRAY[false, false]) AS u(id, kind, target, state, due, warn, provisional) RETURNING id) INSERT INTO sla_clock_events (clock_id, at, kind) SELECT id, now(), 'start' FROM clock;
INSERT INTO outbox (task_key, task_type, queue, payload, process_at, max_retry, timeout_seconds) SELECT k, t, q, p::jsonb, a, r, s FROM unnest(ARRAY[concat_ws(':', 'sla', :ack_id::text, 'warn', '1'), concat_ws(':', 'sla', :res_id::text, 'warn', '1')], ARRAY[concat_ws(':', 'sla', 'deadline'), concat_ws(':', 'sla', 'deadline')], ARRAY['critical', 'critical'], ARRAY[jsonb_build_object('clock_id', :ack_id::bigint, 'version', 1, 'what', 'warn')::text, jsonb_build_object('clock_id', :res_id::bigint, 'version', 1, 'what', 'warn')::text], ARRAY[now() + interval '20 hours 45 minutes', now() + interval '7 days 1 hour 45 minutes'], ARRAY[10, 10], ARRAY[20, 20]) AS u(k, t, q, p, a, r, s) ON CONFLICT (task_key) DO NOTHING;
COMMIT;
SELECT request_id, kind, cycle, calendar_id, target_minutes, warn_percent, outcome, over_pause_cap, (SELECT json_agg(json_build_object('at', e.at, 'kind', e.kind, 'reason', e.reason) ORDER BY e.id) FROM sla_clock_events e WHERE e.clock_id = clock.id) AS events FROM sla_clocks AS clock WHERE request_id = ANY(ARRAY[:id::bigint]) ORDER BY request_id, kind, cycle;
