-- Profiles, the drafts behind the buttons, and usage per user and day.
CREATE TABLE profiles (
    user_id    INTEGER PRIMARY KEY,
    profile    TEXT    NOT NULL,  -- SellerProfile as JSON
    updated_at TEXT    NOT NULL
);

CREATE TABLE drafts (
    id         TEXT    PRIMARY KEY,  -- the short id a button's callback data carries
    user_id    INTEGER NOT NULL,
    review     TEXT    NOT NULL,
    variant    INTEGER NOT NULL,
    profile    TEXT    NOT NULL,     -- the profile the draft was made with (tone, length...)
    draft      TEXT    NOT NULL,     -- Draft as JSON
    created_at TEXT    NOT NULL
);
CREATE INDEX drafts_by_user ON drafts (user_id, created_at);

CREATE TABLE usage (
    user_id           INTEGER NOT NULL,
    day               TEXT    NOT NULL,  -- UTC date
    drafts            INTEGER NOT NULL DEFAULT 0,
    checks            INTEGER NOT NULL DEFAULT 0,
    llm_calls         INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);
