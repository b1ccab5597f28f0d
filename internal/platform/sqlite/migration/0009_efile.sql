-- The client e-file: the history of a client's risk tier (who changed it,
-- when, why) and follow-up tasks for after release.

CREATE TABLE risk_changes (
    client_code TEXT NOT NULL REFERENCES clients(code),
    ts          TEXT NOT NULL,
    from_risk   TEXT NOT NULL,
    to_risk     TEXT NOT NULL CHECK (to_risk IN ('low', 'medium', 'high')),
    reason      TEXT NOT NULL,
    changed_by  TEXT NOT NULL REFERENCES users(id)
);
CREATE INDEX risk_changes_client ON risk_changes(client_code, ts);

CREATE TABLE followups (
    id          TEXT PRIMARY KEY,
    client_code TEXT NOT NULL REFERENCES clients(code),
    due         TEXT NOT NULL,
    what        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('open', 'done', 'missed')) DEFAULT 'open',
    note        TEXT NOT NULL DEFAULT '',
    created     TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users(id),
    closed      TEXT,
    closed_by   TEXT REFERENCES users(id)
);
CREATE INDEX followups_client ON followups(client_code, due);
