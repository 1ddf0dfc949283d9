-- Magic-link tokens for the customer portal.
CREATE TABLE app.portal_token (
    token       text PRIMARY KEY DEFAULT encode(public.gen_random_bytes(24), 'hex'),
    user_id     bigint NOT NULL REFERENCES app.user_account (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL DEFAULT now() + interval '15 minutes',
    used_at     timestamptz
);

CREATE INDEX portal_token_user_idx ON app.portal_token (user_id);
