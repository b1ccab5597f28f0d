-- Why an alert closed by itself, its cause gone: 'station_back' (a lost
-- station came back online) or 'session_ended'. Empty when a counsellor
-- acknowledged it (acked_by says who).
ALTER TABLE alerts ADD COLUMN resolved TEXT NOT NULL DEFAULT '';
