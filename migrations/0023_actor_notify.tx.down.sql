DROP TRIGGER agencies_actor ON agencies;
DROP FUNCTION identity_actor_forget_all();
DROP TRIGGER users_actor_delete ON users;
DROP TRIGGER users_actor_update ON users;
DROP FUNCTION identity_actor_changed();
