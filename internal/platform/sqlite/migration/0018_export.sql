-- The regional view's outbox (issue 25): a row for every change the site
-- exports, written by triggers in the transaction of the change itself, so
-- a row exists exactly when its change committed. Only a site that exports
-- (export_state holds its stream, made by the exporter) records anything. The exporter reads the
-- rows after its high-water mark (export_state), publishes what each
-- names as it is then (sessions/export), and moves the mark after the
-- region's acknowledgement. Rows name a thing and never hold its content.
CREATE TABLE export_outbox (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT NOT NULL CHECK (kind IN ('session', 'alert', 'followup')),
    key     TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000000Z', 'now')) -- the store's own format, nanoseconds
);

CREATE TABLE export_state (
    stream TEXT PRIMARY KEY,
    acked  INTEGER NOT NULL
) WITHOUT ROWID;

-- A session's summary changes with its state and its ratings and scores.
CREATE TRIGGER export_session_event AFTER INSERT ON events
WHEN NEW.kind IN ('session.planned', 'session.started', 'session.paused', 'session.resumed', 'session.ended',
                  'session.aborted', 'session.interrupted', 'checkin.rating', 'checkout.rating', 'scale.scored')
BEGIN
    INSERT INTO export_outbox (kind, key) SELECT 'session', NEW.stream
    WHERE EXISTS (SELECT 1 FROM sessions WHERE id = NEW.stream) AND EXISTS (SELECT 1 FROM export_state);
END;

CREATE TRIGGER export_alert_new AFTER INSERT ON alerts
BEGIN
    INSERT INTO export_outbox (kind, key) SELECT 'alert', NEW.id WHERE EXISTS (SELECT 1 FROM export_state);
END;

CREATE TRIGGER export_alert_changed AFTER UPDATE ON alerts
BEGIN
    INSERT INTO export_outbox (kind, key) SELECT 'alert', NEW.id WHERE EXISTS (SELECT 1 FROM export_state);
END;

CREATE TRIGGER export_followup_new AFTER INSERT ON followups
BEGIN
    INSERT INTO export_outbox (kind, key) SELECT 'followup', NEW.id WHERE EXISTS (SELECT 1 FROM export_state);
END;

CREATE TRIGGER export_followup_changed AFTER UPDATE ON followups
BEGIN
    INSERT INTO export_outbox (kind, key) SELECT 'followup', NEW.id WHERE EXISTS (SELECT 1 FROM export_state);
END;
