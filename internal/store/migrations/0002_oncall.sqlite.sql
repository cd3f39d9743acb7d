-- vigil schema 2 (SQLite): the on-call record (package oncall). Times are
-- UTC text in the fixed-width form of schema 1, '' never stands for a time:
-- an absent time is NULL. Lists (notifications, notes, unmapped ids, action
-- items) are JSON text.

CREATE TABLE oncall_pages (
    source           TEXT    NOT NULL,
    source_id        TEXT    NOT NULL,
    kind             TEXT    NOT NULL DEFAULT '',
    team             TEXT    NOT NULL DEFAULT '',
    service          TEXT    NOT NULL DEFAULT '',
    urgency          TEXT    NOT NULL DEFAULT '',
    title            TEXT    NOT NULL DEFAULT '',
    alert_key        TEXT    NOT NULL DEFAULT '',
    url              TEXT    NOT NULL DEFAULT '',
    created_at       TEXT    NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  TEXT    NOT NULL DEFAULT '',
    resolved_at      TEXT,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    notifications    TEXT    NOT NULL DEFAULT '[]',
    notes            TEXT    NOT NULL DEFAULT '[]',
    unmapped         TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (source, source_id)
);
CREATE INDEX oncall_pages_team_created ON oncall_pages (team, created_at);

CREATE TABLE oncall_shifts (
    source            TEXT    NOT NULL,
    source_id         TEXT    NOT NULL,
    person            TEXT    NOT NULL,
    team              TEXT    NOT NULL DEFAULT '',
    schedule          TEXT    NOT NULL DEFAULT '',
    escalation_policy TEXT    NOT NULL DEFAULT '',
    level             INTEGER NOT NULL,
    start_at          TEXT    NOT NULL,
    end_at            TEXT,
    PRIMARY KEY (source, source_id)
);
CREATE INDEX oncall_shifts_team_start ON oncall_shifts (team, start_at);

CREATE TABLE oncall_incidents (
    source         TEXT NOT NULL,
    source_id      TEXT NOT NULL,
    team           TEXT NOT NULL DEFAULT '',
    title          TEXT NOT NULL DEFAULT '',
    severity       TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    resolved_at    TEXT,
    postmortem_url TEXT NOT NULL DEFAULT '',
    action_items   TEXT NOT NULL DEFAULT '[]',
    pages          TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (source, source_id)
);
CREATE INDEX oncall_incidents_team_created ON oncall_incidents (team, created_at);

-- Every classification ever made; the latest per page is current.
CREATE TABLE oncall_classifications (
    id                 INTEGER PRIMARY KEY,
    page               TEXT    NOT NULL,
    verdict            TEXT    NOT NULL,
    business_impacting BOOLEAN NOT NULL,
    reason             TEXT    NOT NULL DEFAULT '',
    note               TEXT    NOT NULL DEFAULT '',
    classified_by      TEXT    NOT NULL,
    classified_at      TEXT    NOT NULL,
    via                TEXT    NOT NULL,
    UNIQUE (page, classified_by, classified_at, via)
);
CREATE INDEX oncall_classifications_page ON oncall_classifications (page, classified_at);

-- How far each source has read; written in the transaction of its rows.
CREATE TABLE oncall_cursors (
    source     TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, name)
);

-- Webhook event ids already received (replay refusal shared by replicas);
-- pruned as they age past the replay window.
CREATE TABLE webhook_events (
    source  TEXT NOT NULL,
    id      TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (source, id)
);
CREATE INDEX webhook_events_seen ON webhook_events (seen_at);
