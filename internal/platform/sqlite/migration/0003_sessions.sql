-- Clients (known by a pseudonymous code, never a name), sessions, their
-- stations, and alerts.

CREATE TABLE clients (
    code    TEXT PRIMARY KEY COLLATE NOCASE,
    risk    TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    created TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id)
);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    room_id       TEXT NOT NULL REFERENCES rooms(id),
    client_code   TEXT NOT NULL REFERENCES clients(code),
    counsellor_id TEXT NOT NULL REFERENCES users(id),
    plan          TEXT NOT NULL,
    step          INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL CHECK (state IN ('planned', 'running', 'paused', 'ended', 'aborted', 'interrupted')),
    created       TEXT NOT NULL,
    started       TEXT,
    ended         TEXT
);
CREATE INDEX sessions_state ON sessions(state);
CREATE INDEX sessions_client ON sessions(client_code);

-- A session's stations never change after it is created.
CREATE TABLE session_stations (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    device_id  TEXT NOT NULL REFERENCES devices(id),
    PRIMARY KEY (session_id, device_id)
) WITHOUT ROWID;
CREATE INDEX session_stations_device ON session_stations(device_id);

CREATE TABLE alerts (
    id         TEXT PRIMARY KEY,
    session_id TEXT REFERENCES sessions(id),
    device_id  TEXT,
    kind       TEXT NOT NULL,
    risk       TEXT NOT NULL,
    level      INTEGER NOT NULL DEFAULT 1,
    raised     TEXT NOT NULL,
    acked      TEXT,
    acked_by   TEXT REFERENCES users(id),
    data       TEXT
);
CREATE INDEX alerts_open ON alerts(acked) WHERE acked IS NULL;
