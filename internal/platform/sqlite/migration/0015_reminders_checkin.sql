-- Aftercare, continued: reminders addressed to one counsellor (not alerts
-- to the room), and one-time codes for the online check-in page.
CREATE TABLE reminders (
    id            TEXT PRIMARY KEY,
    counsellor_id TEXT NOT NULL REFERENCES users(id),
    client_code   TEXT NOT NULL REFERENCES clients(code),
    kind          TEXT NOT NULL,          -- call_me, distress
    created       TEXT NOT NULL,
    closed        TEXT,
    closed_by     TEXT REFERENCES users(id),
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reminders_open ON reminders (counsellor_id, closed);

CREATE TABLE checkin_codes (
    id          TEXT PRIMARY KEY,
    client_code TEXT NOT NULL REFERENCES clients(code),
    code_hash   TEXT NOT NULL UNIQUE,     -- sha256 of the code: the code itself is shown once
    issued_by   TEXT NOT NULL REFERENCES users(id),
    issued      TEXT NOT NULL,
    expires     TEXT NOT NULL,
    revoked     TEXT,                     -- a newer code for the client replaced it
    used        TEXT,
    distress    INTEGER,
    mood        INTEGER,
    call_me     INTEGER
);
CREATE INDEX checkin_codes_client ON checkin_codes (client_code, issued);
