-- Devices waiting to be paired: a new kiosk or headset shows a short code,
-- a technician enters it with a name and a room, and the controller hands
-- the device its token over the waiting connection. Only a hash of the code
-- is kept. Rows are kept as the record of who paired what.

CREATE TABLE pairing_requests (
    id          TEXT PRIMARY KEY,
    code_hash   BLOB NOT NULL,
    profile_id  TEXT NOT NULL,
    firmware    TEXT NOT NULL DEFAULT '',
    remote      TEXT NOT NULL DEFAULT '',
    created     TEXT NOT NULL,
    expires     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('waiting', 'approved', 'paired', 'expired', 'abandoned')),
    name        TEXT NOT NULL DEFAULT '',
    room        TEXT NOT NULL DEFAULT '',
    approved_by TEXT NOT NULL DEFAULT '',
    device_id   TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT ''
);
-- A code is unique among the devices waiting now.
CREATE UNIQUE INDEX pairing_waiting_code ON pairing_requests(code_hash) WHERE state IN ('waiting', 'approved');
CREATE INDEX pairing_code ON pairing_requests(code_hash, created);

-- Wrong, expired and reused codes, for the rate limit.
CREATE TABLE pairing_failures (
    ts  TEXT NOT NULL,
    who TEXT NOT NULL
);
CREATE INDEX pairing_failures_ts ON pairing_failures(ts);
