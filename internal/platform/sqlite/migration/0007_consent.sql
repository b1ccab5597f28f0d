-- Consent to what a session records, per client: given by the client, or
-- by a guardian (required for minors under 14). A withdrawal is recorded
-- beside the consent, never by erasing it.

ALTER TABLE clients ADD COLUMN minor INTEGER NOT NULL DEFAULT 0;

CREATE TABLE consents (
    id           TEXT PRIMARY KEY,
    client_code  TEXT NOT NULL REFERENCES clients(code),
    scopes       TEXT NOT NULL,
    given_by     TEXT NOT NULL CHECK (given_by IN ('client', 'guardian')),
    guardian     TEXT NOT NULL DEFAULT '',
    recorded     TEXT NOT NULL,
    recorded_by  TEXT NOT NULL REFERENCES users(id),
    withdrawn    TEXT,
    withdrawn_by TEXT REFERENCES users(id)
);
CREATE INDEX consents_client ON consents(client_code, recorded);
