-- Aftercare after release: a plan per client (who follows up, the
-- schedule, the contact kinds), the contacts logged, the abstinence tests.
CREATE TABLE aftercare_plans (
    client_code   TEXT PRIMARY KEY REFERENCES clients(code),
    released      TEXT NOT NULL,          -- YYYY-MM-DD
    counsellor_id TEXT NOT NULL REFERENCES users(id),
    schedule      TEXT NOT NULL,          -- JSON [{"every_days","times"}]
    kinds         TEXT NOT NULL,          -- JSON ["phone", ...]
    updated       TEXT NOT NULL,
    updated_by    TEXT NOT NULL REFERENCES users(id)
);

CREATE TABLE aftercare_contacts (
    id          TEXT PRIMARY KEY,
    client_code TEXT NOT NULL REFERENCES clients(code),
    day         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded    TEXT NOT NULL
);
CREATE INDEX aftercare_contacts_client ON aftercare_contacts (client_code, day);

CREATE TABLE abstinence_tests (
    id          TEXT PRIMARY KEY,
    client_code TEXT NOT NULL REFERENCES clients(code),
    day         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    panel       TEXT NOT NULL,            -- JSON ["heroin", ...]
    result      TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded    TEXT NOT NULL
);
CREATE INDEX abstinence_tests_client ON abstinence_tests (client_code, day);
