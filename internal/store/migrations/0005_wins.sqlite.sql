-- vigil schema 5 (SQLite): wins and challenges, with their history.

-- One row per entry: a team's own (level team), or a group's or the org's
-- selection from the level below (sources: the JSON ids of the originals).
CREATE TABLE wins_entries (
    id         INTEGER PRIMARY KEY,
    level      TEXT    NOT NULL,
    unit       TEXT    NOT NULL,
    period     TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    situation  TEXT    NOT NULL DEFAULT '',
    action     TEXT    NOT NULL DEFAULT '',
    result     TEXT    NOT NULL DEFAULT '',
    topic      TEXT    NOT NULL,
    author     TEXT    NOT NULL DEFAULT '',
    links      TEXT    NOT NULL DEFAULT '[]',
    audience   TEXT    NOT NULL,
    sources    TEXT    NOT NULL DEFAULT '[]',
    suggestion TEXT    NOT NULL DEFAULT '',
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX wins_entries_period ON wins_entries (period, level, unit);
-- A suggestion accepted twice is one entry.
CREATE UNIQUE INDEX wins_entries_suggestion ON wins_entries (level, unit, period, suggestion) WHERE suggestion <> '';

-- Who changed what, when: one row per version (fields: JSON [{field, from, to}]).
-- Rows outlive their entry (no foreign key), so a deletion keeps its history.
CREATE TABLE wins_history (
    id       INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    action   TEXT    NOT NULL,
    author   TEXT    NOT NULL DEFAULT '',
    at       TEXT    NOT NULL,
    fields   TEXT    NOT NULL DEFAULT '[]',
    UNIQUE (entry_id, version)
);
