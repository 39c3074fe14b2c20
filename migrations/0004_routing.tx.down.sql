DROP TABLE notifications;
DROP INDEX requests_submitted_idx;
DROP INDEX requests_pool_idx;
ALTER TABLE requests DROP COLUMN offered_at, DROP COLUMN offer_misses, DROP COLUMN pool_reason;
ALTER TABLE officer_profiles DROP COLUMN last_assigned_at;
DROP TABLE recusals;
DROP TABLE routing_rules;
