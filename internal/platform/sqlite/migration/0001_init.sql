-- Rooms, devices and their live status, the event streams, device dedupe and telemetry.
-- Times are TEXT in a fixed-width UTC form (2006-01-02T15:04:05.000000000Z) so they sort as text.

CREATE TABLE rooms (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created TEXT NOT NULL
);

-- A removed device keeps its row (events name it as their source) but loses
-- its token; names are unique among the devices still registered in a room.
CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    room_id    TEXT NOT NULL REFERENCES rooms(id),
    profile_id TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    token_hash BLOB UNIQUE,
    created    TEXT NOT NULL,
    removed    TEXT
);
CREATE UNIQUE INDEX devices_room_name ON devices(room_id, name COLLATE NOCASE) WHERE removed IS NULL;

-- Written by the controller that serves the folder; read by the CLI.
CREATE TABLE device_status (
    device_id     TEXT PRIMARY KEY REFERENCES devices(id),
    status        TEXT NOT NULL DEFAULT 'offline',
    last_seen     TEXT,
    firmware      TEXT NOT NULL DEFAULT '',
    firmware_ok   INTEGER,
    firmware_note TEXT NOT NULL DEFAULT ''
);

-- Bumped by every change to devices, so a running controller notices what the
-- CLI did in another process by reading one row.
CREATE TABLE registry_gen (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    gen INTEGER NOT NULL
);
INSERT INTO registry_gen (id, gen) VALUES (1, 0);
CREATE TRIGGER devices_gen_ins AFTER INSERT ON devices BEGIN UPDATE registry_gen SET gen = gen + 1; END;
CREATE TRIGGER devices_gen_upd AFTER UPDATE ON devices BEGIN UPDATE registry_gen SET gen = gen + 1; END;
CREATE TRIGGER devices_gen_del AFTER DELETE ON devices BEGIN UPDATE registry_gen SET gen = gen + 1; END;

-- Every stream (a session "s-…", or a device's own log "d-…") is gapless in seq.
CREATE TABLE events (
    stream    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    ts        TEXT NOT NULL,
    device_ts TEXT,
    source    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

-- Where each device event landed; a resent (device, dseq) is found here and dropped.
CREATE TABLE device_dedupe (
    device_id TEXT NOT NULL,
    dseq      INTEGER NOT NULL,
    stream    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (device_id, dseq)
) WITHOUT ROWID;

CREATE TABLE telemetry (
    device_id TEXT NOT NULL,
    stream    TEXT NOT NULL,
    ts        TEXT NOT NULL,
    device_ts TEXT,
    name      TEXT NOT NULL,
    value     REAL NOT NULL
);
CREATE INDEX telemetry_device_ts ON telemetry(device_id, ts);
CREATE INDEX telemetry_stream_ts ON telemetry(stream, ts);
