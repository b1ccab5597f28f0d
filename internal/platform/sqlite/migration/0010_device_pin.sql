-- A kiosk's technician PIN, set at registration: the bcrypt hash of the
-- digits that open the kiosk's settings page (and its way out). Empty:
-- none set.
ALTER TABLE devices ADD COLUMN pin_hash TEXT NOT NULL DEFAULT '';
