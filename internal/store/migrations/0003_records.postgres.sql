-- vigil schema 3 (PostgreSQL): support tickets and change records (package
-- oncall, issue 7). Times are timestamptz;
-- an absent time is NULL. Lists are JSON text.

CREATE TABLE support_tickets (
    source            TEXT    NOT NULL,
    source_id         TEXT    NOT NULL,
    team              TEXT    NOT NULL DEFAULT '',
    service           TEXT    NOT NULL DEFAULT '',
    title             TEXT    NOT NULL DEFAULT '',
    body              TEXT    NOT NULL DEFAULT '',
    url               TEXT    NOT NULL DEFAULT '',
    requester         TEXT    NOT NULL DEFAULT '',
    assignee          TEXT    NOT NULL DEFAULT '',
    priority          TEXT    NOT NULL DEFAULT '',
    labels            TEXT    NOT NULL DEFAULT '[]',
    components        TEXT    NOT NULL DEFAULT '[]',
    category          TEXT    NOT NULL DEFAULT '',
    category_by       TEXT    NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,
    first_responder   TEXT    NOT NULL DEFAULT '',
    solved_at         TIMESTAMPTZ,
    solved_by         TEXT    NOT NULL DEFAULT '',
    reopens           INTEGER NOT NULL DEFAULT 0,
    sla               TEXT    NOT NULL DEFAULT '[]',
    incident          TEXT    NOT NULL DEFAULT '',
    unmapped          TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (source, source_id)
);
CREATE INDEX support_tickets_team_created ON support_tickets (team, created_at);
CREATE INDEX support_tickets_team_solved ON support_tickets (team, solved_at);

CREATE TABLE change_records (
    source      TEXT    NOT NULL,
    source_id   TEXT    NOT NULL,
    team        TEXT    NOT NULL DEFAULT '',
    service     TEXT    NOT NULL DEFAULT '',
    at          TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    author      TEXT    NOT NULL DEFAULT '',
    summary     TEXT    NOT NULL DEFAULT '',
    kind        TEXT    NOT NULL,
    url         TEXT    NOT NULL DEFAULT '',
    documented  TEXT    NOT NULL DEFAULT '',
    reviewed_by TEXT    NOT NULL DEFAULT '',
    tested      TEXT    NOT NULL DEFAULT '',
    automated   BOOLEAN NOT NULL DEFAULT FALSE,
    failed      BOOLEAN NOT NULL DEFAULT FALSE,
    rolled_back BOOLEAN NOT NULL DEFAULT FALSE,
    commit_at   TIMESTAMPTZ,
    incidents   TEXT    NOT NULL DEFAULT '[]',
    unmapped    TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (source, source_id)
);
CREATE INDEX change_records_team_at ON change_records (team, at);

-- How far each ticket or change source has read; written in the
-- transaction of its rows.
CREATE TABLE record_cursors (
    source     TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, name)
);
