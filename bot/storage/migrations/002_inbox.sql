-- Updates being handled: kept until answered, so a crash or a restart mid-draft does not lose
-- the review (Telegram considers an update delivered as soon as the next poll starts).
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    payload     TEXT    NOT NULL,  -- the Update as JSON
    attempts    INTEGER NOT NULL DEFAULT 0,
    received_at TEXT    NOT NULL
);
