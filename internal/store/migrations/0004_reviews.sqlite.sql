-- vigil schema 4 (SQLite): the review outbox and handoff notes.

-- One row per report to deliver, keyed by team, period and kind, so that a
-- schedule firing twice (or on two replicas) enqueues it once.
CREATE TABLE review_outbox (
    id              INTEGER PRIMARY KEY,
    team            TEXT    NOT NULL,
    period          TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    channel         TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    progress        TEXT    NOT NULL DEFAULT '{}',
    payload         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    delivered_at    TEXT,
    UNIQUE (team, period, kind)
);
CREATE INDEX review_outbox_due ON review_outbox (state, next_attempt_at);

CREATE TABLE review_notes (
    id         INTEGER PRIMARY KEY,
    team       TEXT NOT NULL,
    week       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    author     TEXT NOT NULL DEFAULT '',
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX review_notes_team_week ON review_notes (team, week, created_at);
