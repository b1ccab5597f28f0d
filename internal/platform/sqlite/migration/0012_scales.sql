-- The licensed measurement scales an admin has switched on at this site (a
-- scale marked licensed in its file is off until then), with who and when.
CREATE TABLE scale_settings (
    scale_id   TEXT PRIMARY KEY,
    enabled    INTEGER NOT NULL,
    changed    TEXT NOT NULL,
    changed_by TEXT NOT NULL
);
