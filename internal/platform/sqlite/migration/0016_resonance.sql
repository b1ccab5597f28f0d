-- The client's resonance breathing rate, found by the resonance step.
ALTER TABLE clients ADD COLUMN resonance_bpm REAL;
ALTER TABLE clients ADD COLUMN resonance_found TEXT;
