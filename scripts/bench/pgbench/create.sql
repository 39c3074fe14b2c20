-- pgbench script: the SQL one `POST /api/v1/requests` runs (no Idempotency-Key),
-- copied from the statements the server sends (log_statement = all):
--   1. the auth middleware loads the caller (identity userByID),
--   2. casework.Service.Create's transaction,
--   3. the handler re-reads the request with its joins (casework loadRequest).
-- Variables come from `load pgbench-vars` (-D): the bench enterprise users are
-- ubase+k with enterprise ebase+k; title/descr/terms are one request text of
-- the same generator the HTTP load uses. Run with -M prepared. (pgbench
-- scans for :name even inside string literals, hence no ':' next to a name in them.)
\set k random(0, :nusers - 1)
\set uid :ubase + :k
\set eid :ebase + :k
SELECT
  "user"."id", "user"."username", "user"."display_name", "user"."role",
  "user"."password_hash", "user"."agency_id", "user"."enterprise_id", "user"."phone",
  "user"."disabled_at", "user"."created_at", "user"."updated_at", "agency"."id" AS "agency__id",
  "agency"."code" AS "agency__code", "agency"."name" AS "agency__name", "agency"."kind" AS "agency__kind", "agency"."towns" AS "agency__towns",
  "agency"."active" AS "agency__active", "agency"."created_at" AS "agency__created_at", "agency"."updated_at" AS "agency__updated_at", "enterprise"."id" AS "enterprise__id",
  "enterprise"."uscc" AS "enterprise__uscc", "enterprise"."name" AS "enterprise__name", "enterprise"."town_code" AS "enterprise__town_code", "enterprise"."industry" AS "enterprise__industry",
  "enterprise"."address" AS "enterprise__address", "enterprise"."contact_name" AS "enterprise__contact_name", "enterprise"."contact_phone" AS "enterprise__contact_phone", "enterprise"."grade" AS "enterprise__grade",
  "enterprise"."uscc_check_override" AS "enterprise__uscc_check_override", "enterprise"."no_disturb" AS "enterprise__no_disturb", "enterprise"."no_disturb_from" AS "enterprise__no_disturb_from", "enterprise"."no_disturb_to" AS "enterprise__no_disturb_to",
  "enterprise"."no_disturb_basis" AS "enterprise__no_disturb_basis", "enterprise"."created_at" AS "enterprise__created_at", "enterprise"."updated_at" AS "enterprise__updated_at", "officer"."user_id" AS "officer__user_id",
  "officer"."skills" AS "officer__skills", "officer"."capacity" AS "officer__capacity", "officer"."on_duty" AS "officer__on_duty", "officer"."towns" AS "officer__towns",
  "officer"."updated_at" AS "officer__updated_at"
FROM "users" AS "user"
LEFT JOIN "agencies" AS "agency" ON ("agency"."id" = "user"."agency_id")
LEFT JOIN "enterprises" AS "enterprise" ON ("enterprise"."id" = "user"."enterprise_id")
LEFT JOIN "officer_profiles" AS "officer" ON ("officer"."user_id" = "user"."id")
WHERE ("user".id = :uid);
BEGIN;
SELECT "category"."code", "category"."name_zh", "category"."name_en", "category"."description_zh", "category"."agency_kind", "category"."default_priority", "category"."sla_kind", "category"."weight", "category"."active", "category"."sort"
FROM "categories" AS "category" WHERE (code = :category AND active);
SELECT next_ticket_seq(:year) AS seq \gset
INSERT INTO "requests" ("ticket_no", "enterprise_id", "created_by", "category", "title", "description", "priority", "contact_name", "contact_phone", "status", "version", "search_terms", "created_at", "updated_at")
VALUES ('GC-' || :year::text || '-' || lpad(:seq::text, 6, '0'), :eid, :uid, :category, :title, :descr, 'normal', '', '', 'submitted', 1, :terms, now(), now()) RETURNING id \gset
INSERT INTO "request_events" ("request_id", "at", "actor_id", "kind", "internal", "data")
VALUES (:id, now(), :uid, 'created', FALSE, jsonb_build_object('category', :category::text, 'priority', 'normal', 'ticket_no', 'GC-' || :year::text || '-' || lpad(:seq::text, 6, '0')));
INSERT INTO "outbox" AS "outbox_row" ("task_key", "task_type", "queue", "payload", "process_at", "max_retry", "timeout_seconds")
VALUES (concat_ws(':', 'route', :id::text, '1'), concat_ws(':', 'routing', 'assign'), 'critical', jsonb_build_object('request_id', :id::bigint), DEFAULT, 10, 20) ON CONFLICT (task_key) DO NOTHING RETURNING "process_at";
COMMIT;
SELECT
  "request"."id", "request"."ticket_no", "request"."enterprise_id", "request"."created_by",
  "request"."category", "request"."title", "request"."description", "request"."priority",
  "request"."contact_name", "request"."contact_phone", "request"."status", "request"."agency_id",
  "request"."assignee_id", "request"."version", "request"."resolution", "request"."accepted_at",
  "request"."resolved_at", "request"."closed_at", "request"."reopen_count", "request"."search_terms",
  "request"."created_at", "request"."updated_at", "agency"."id" AS "agency__id", "agency"."code" AS "agency__code",
  "agency"."name" AS "agency__name", "agency"."kind" AS "agency__kind", "agency"."towns" AS "agency__towns", "agency"."active" AS "agency__active",
  "agency"."created_at" AS "agency__created_at", "agency"."updated_at" AS "agency__updated_at", "assignee"."id" AS "assignee__id", "assignee"."username" AS "assignee__username",
  "assignee"."display_name" AS "assignee__display_name", "assignee"."role" AS "assignee__role", "assignee"."password_hash" AS "assignee__password_hash", "assignee"."agency_id" AS "assignee__agency_id",
  "assignee"."enterprise_id" AS "assignee__enterprise_id", "assignee"."phone" AS "assignee__phone", "assignee"."disabled_at" AS "assignee__disabled_at", "assignee"."created_at" AS "assignee__created_at",
  "assignee"."updated_at" AS "assignee__updated_at", "enterprise"."id" AS "enterprise__id", "enterprise"."uscc" AS "enterprise__uscc", "enterprise"."name" AS "enterprise__name",
  "enterprise"."town_code" AS "enterprise__town_code", "enterprise"."industry" AS "enterprise__industry", "enterprise"."address" AS "enterprise__address", "enterprise"."contact_name" AS "enterprise__contact_name",
  "enterprise"."contact_phone" AS "enterprise__contact_phone", "enterprise"."grade" AS "enterprise__grade", "enterprise"."uscc_check_override" AS "enterprise__uscc_check_override", "enterprise"."no_disturb" AS "enterprise__no_disturb",
  "enterprise"."no_disturb_from" AS "enterprise__no_disturb_from", "enterprise"."no_disturb_to" AS "enterprise__no_disturb_to", "enterprise"."no_disturb_basis" AS "enterprise__no_disturb_basis", "enterprise"."created_at" AS "enterprise__created_at",
  "enterprise"."updated_at" AS "enterprise__updated_at"
FROM "requests" AS "request"
LEFT JOIN "agencies" AS "agency" ON ("agency"."id" = "request"."agency_id")
LEFT JOIN "users" AS "assignee" ON ("assignee"."id" = "request"."assignee_id")
LEFT JOIN "enterprises" AS "enterprise" ON ("enterprise"."id" = "request"."enterprise_id")
WHERE ("request".id = :id);
