-- Cue-reactivity assessment results, computed from a session's events and
-- telemetry when it ends and kept here so a client's assessments can be
-- compared over time (and outlive the raw telemetry under retention). One
-- row per station that gave heart readings; the primary one (the most
-- beat-to-beat intervals) is what the client's history compares.

CREATE TABLE assessments (
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    device_id   TEXT NOT NULL,
    is_primary  INTEGER NOT NULL CHECK (is_primary IN (0, 1)),
    client_code TEXT NOT NULL REFERENCES clients(code),
    computed    TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (session_id, device_id)
);
CREATE INDEX assessments_client ON assessments(client_code, computed) WHERE is_primary = 1;
