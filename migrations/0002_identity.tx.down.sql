DROP TABLE login_throttle;
DROP TABLE sessions;
DROP TABLE refresh_tokens;
DROP TABLE officer_profiles;
DROP TABLE users;
DROP TABLE enterprises;
DROP TABLE agencies;
DROP TABLE towns;
