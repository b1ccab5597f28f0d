-- Group sessions: their members (clients), each with the station assigned
-- to them, or none when they share the session's stations. A group
-- session's own client_code is the pseudo-client _GROUP (a code no client
-- can have), so the sessions table and its joins stay as they are.
CREATE TABLE session_members (
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    client_code TEXT NOT NULL REFERENCES clients(code),
    device_id   TEXT REFERENCES devices(id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (session_id, client_code)
) WITHOUT ROWID;
CREATE INDEX session_members_client ON session_members(client_code);
