-- Retention: how long session content is kept (a site setting), a legal
-- hold per client that keeps it regardless, and when a session's content
-- was purged (the session row stays, its events and readings go).

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated    TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

ALTER TABLE clients ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN legal_hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN purged TEXT;
CREATE INDEX sessions_ended ON sessions(ended) WHERE purged IS NULL;
CREATE INDEX telemetry_stream ON telemetry(stream);
