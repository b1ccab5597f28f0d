-- Cue-reactivity assessment results, computed from a session's events and
-- telemetry when it ends and kept here so a client's assessments can be
-- compared over time (and outlive the raw telemetry under retention).

CREATE TABLE assessments (
    session_id  TEXT PRIMARY KEY REFERENCES sessions(id),
    client_code TEXT NOT NULL REFERENCES clients(code),
    computed    TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX assessments_client ON assessments(client_code, computed);
