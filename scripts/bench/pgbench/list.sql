-- Template of the SQL one `GET /api/v1/requests` runs, copied from the
-- statements the server sends (log_statement = all): the auth middleware
-- loads the caller (identity userByID), casework.List selects the page, and
-- the SLA block of the page (clocks with their logs) is read. `load pgbench-list`
-- fills in {{uid}}, the WHERE clause bun builds for one query (values
-- inline, as the server sends them), the LIMIT (page size + 1) and {{ids}},
-- the ids of that page (the list query is run once to get them).
SELECT "user"."id", "user"."username", "user"."display_name", "user"."role", "user"."password_hash", "user"."agency_id", "user"."enterprise_id", "user"."phone", "user"."disabled_at", "user"."created_at", "user"."updated_at", "agency"."id" AS "agency__id", "agency"."code" AS "agency__code", "agency"."name" AS "agency__name", "agency"."kind" AS "agency__kind", "agency"."towns" AS "agency__towns", "agency"."active" AS "agency__active", "agency"."created_at" AS "agency__created_at", "agency"."updated_at" AS "agency__updated_at", "enterprise"."id" AS "enterprise__id", "enterprise"."uscc" AS "enterprise__uscc", "enterprise"."name" AS "enterprise__name", "enterprise"."town_code" AS "enterprise__town_code", "enterprise"."industry" AS "enterprise__industry", "enterprise"."address" AS "enterprise__address", "enterprise"."contact_name" AS "enterprise__contact_name", "enterprise"."contact_phone" AS "enterprise__contact_phone", "enterprise"."grade" AS "enterprise__grade", "enterprise"."uscc_check_override" AS "enterprise__uscc_check_override", "enterprise"."no_disturb" AS "enterprise__no_disturb", "enterprise"."no_disturb_from" AS "enterprise__no_disturb_from", "enterprise"."no_disturb_to" AS "enterprise__no_disturb_to", "enterprise"."no_disturb_basis" AS "enterprise__no_disturb_basis", "enterprise"."created_at" AS "enterprise__created_at", "enterprise"."updated_at" AS "enterprise__updated_at", "officer"."user_id" AS "officer__user_id", "officer"."skills" AS "officer__skills", "officer"."capacity" AS "officer__capacity", "officer"."on_duty" AS "officer__on_duty", "officer"."towns" AS "officer__towns", "officer"."updated_at" AS "officer__updated_at" FROM "users" AS "user" LEFT JOIN "agencies" AS "agency" ON ("agency"."id" = "user"."agency_id") LEFT JOIN "enterprises" AS "enterprise" ON ("enterprise"."id" = "user"."enterprise_id") LEFT JOIN "officer_profiles" AS "officer" ON ("officer"."user_id" = "user"."id") WHERE ("user".id = {{uid}});
SELECT
  "request"."id", "request"."ticket_no", "request"."enterprise_id", "request"."created_by",
  "request"."category", "request"."title", "request"."description", "request"."priority",
  "request"."contact_name", "request"."contact_phone", "request"."status", "request"."agency_id",
  "request"."assignee_id", "request"."version", "request"."resolution", "request"."accepted_at",
  "request"."resolved_at", "request"."closed_at", "request"."reopen_count",
  "request"."created_at", "request"."updated_at", "agency"."id" AS "agency__id", "agency"."code" AS "agency__code",
  "agency"."name" AS "agency__name", "agency"."kind" AS "agency__kind", "agency"."towns" AS "agency__towns", "agency"."active" AS "agency__active",
  "agency"."created_at" AS "agency__created_at", "agency"."updated_at" AS "agency__updated_at", "assignee"."id" AS "assignee__id", "assignee"."username" AS "assignee__username",
  "assignee"."display_name" AS "assignee__display_name", "assignee"."role" AS "assignee__role", "assignee"."password_hash" AS "assignee__password_hash", "assignee"."agency_id" AS "assignee__agency_id",
  "assignee"."enterprise_id" AS "assignee__enterprise_id", "assignee"."phone" AS "assignee__phone", "assignee"."disabled_at" AS "assignee__disabled_at", "assignee"."created_at" AS "assignee__created_at",
  "assignee"."updated_at" AS "assignee__updated_at"
FROM "requests" AS "request"
LEFT JOIN "agencies" AS "agency" ON ("agency"."id" = "request"."agency_id")
LEFT JOIN "users" AS "assignee" ON ("assignee"."id" = "request"."assignee_id")
{{where}}
ORDER BY "request".id DESC LIMIT {{limit}};
SELECT clock.*, (SELECT json_agg(json_build_object('at', e.at, 'kind', e.kind, 'reason', e.reason) ORDER BY e.id) FROM sla_clock_events e WHERE e.clock_id = clock.id) AS events FROM "sla_clocks" AS "clock" WHERE (request_id IN ({{ids}})) ORDER BY request_id, kind, cycle;
