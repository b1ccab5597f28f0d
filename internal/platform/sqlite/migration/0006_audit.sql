-- The audit log: who read, exported or changed what, when and from where.
-- Append-only, and hash-chained: each row's hash covers its own fields and
-- the hash of the row before, so `waystation audit verify` finds a row
-- changed or deleted behind the controller's back (the triggers stop it
-- from the controller's side; someone with the file can drop them, which
-- the chain then shows).

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    ts        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL DEFAULT '',
    action    TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    outcome   TEXT NOT NULL,
    remote    TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '{}',
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE INDEX audit_ts ON audit(ts);
CREATE INDEX audit_actor ON audit(actor, ts);
CREATE INDEX audit_target ON audit(target, ts);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
