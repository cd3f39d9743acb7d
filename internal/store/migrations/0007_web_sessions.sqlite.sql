-- vigil: additive
-- vigil schema 7 (SQLite): web UI logins, shared by every server replica so
-- a session made on one is honoured by the others. key_hash is the hex
-- sha256 of the session cookie; the cookie value itself is never stored.
CREATE TABLE web_sessions (
    key_hash   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
