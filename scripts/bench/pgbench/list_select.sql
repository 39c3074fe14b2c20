-- The SELECT of casework.List (GET /api/v1/requests) up to its WHERE clause,
-- copied from the statement the server sends; `load pgbench-list` appends the
-- WHERE, ORDER BY and LIMIT of one query.
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
  "assignee"."updated_at" AS "assignee__updated_at"
FROM "requests" AS "request"
LEFT JOIN "agencies" AS "agency" ON ("agency"."id" = "request"."agency_id")
LEFT JOIN "users" AS "assignee" ON ("assignee"."id" = "request"."assignee_id")
