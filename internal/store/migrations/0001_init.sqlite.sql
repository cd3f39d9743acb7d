-- vigil schema 1 (SQLite). Times are UTC text in a fixed-width RFC 3339
-- form (2006-01-02T15:04:05.000000000Z) so that text order is time order.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE probe_runs (
    id               INTEGER PRIMARY KEY,
    journey          TEXT    NOT NULL,
    region           TEXT    NOT NULL DEFAULT '',
    started_at       TEXT    NOT NULL,
    duration_seconds REAL    NOT NULL,
    success          BOOLEAN NOT NULL,
    paused           BOOLEAN NOT NULL DEFAULT FALSE,
    error            TEXT    NOT NULL DEFAULT '',
    steps            TEXT
);

CREATE INDEX probe_runs_journey_started ON probe_runs (journey, started_at);
CREATE INDEX probe_runs_started ON probe_runs (started_at);
