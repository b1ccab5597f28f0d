-- Accounts of counsellors, technicians and admins, and their login sessions.

CREATE TABLE users (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role      TEXT NOT NULL CHECK (role IN ('counsellor', 'technician', 'admin')),
    pass_hash BLOB NOT NULL,
    disabled  INTEGER NOT NULL DEFAULT 0,
    created   TEXT NOT NULL
);

-- A login is a random cookie token; only its SHA-256 is kept.
CREATE TABLE logins (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created    TEXT NOT NULL,
    expires    TEXT NOT NULL
);
CREATE INDEX logins_user ON logins(user_id);
