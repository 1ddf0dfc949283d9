-- HOTFIX 2020-09-14: the portal looks tokens up by user and expiry; the plain index was not used.
-- Swapped without locking the table, hence CONCURRENTLY and nothing else in this file.
DROP INDEX CONCURRENTLY IF EXISTS app.portal_token_user_idx;
CREATE INDEX CONCURRENTLY portal_token_user_expiry_idx ON app.portal_token (user_id, expires_at) WHERE used_at IS NULL;
