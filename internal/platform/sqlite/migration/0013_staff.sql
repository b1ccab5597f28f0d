-- Staff self-care sessions keep nothing but counts: the sessions held and
-- each self-check's band, by day and room (scale and band empty: a session).
CREATE TABLE staff_counts (
    day     TEXT NOT NULL,
    room_id TEXT NOT NULL REFERENCES rooms(id),
    scale   TEXT NOT NULL,
    band    TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (day, room_id, scale, band)
) WITHOUT ROWID;
