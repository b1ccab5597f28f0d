package sessions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/sessions/eventlog"
	"waystation/sessions/hrv"
)

// The resonance-frequency finder (Lehrer and Vaschillo): a resonance step
// paces the client's breathing through each rate of the step for one
// epoch (the kiosk's breathing guide, by breathing.set, each epoch logged
// as resonance.epoch), then compares the heart's low-frequency peak in
// each epoch (package hrv) and logs resonance.found with the rate whose
// peak is the largest and every epoch's figures. The rate is kept on the
// client's record; relaxation steps without a pace of their own then pace
// the breathing at it. Pausing the session, leaving the step or a
// controller restart ends a run without a result (resonance.stopped);
// repeating the step runs it again.

// ResonanceRates are the rates tried when a step names none: adults'
// resonance lies mostly between 4.5 and 6.5 breaths a minute.
var ResonanceRates = []float64{6.5, 6.0, 5.5, 5.0, 4.5}

// DefaultResonanceEpoch is how long each rate is paced.
const DefaultResonanceEpoch = 2 * time.Minute

// finder is a run of the resonance step of a session: the step it belongs
// to and a token that a newer run or a stop replaces.
type finder struct {
	step  int
	token uint64
}

// afterFunc runs f after d; tests replace it to end epochs when they
// choose. Its result stops the timer.
type afterFunc func(d time.Duration, f func()) (stop func() bool)

func realAfter(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// startResonance begins a run of the step the session is at.
func (e *Engine) startResonance(ctx context.Context, by auth.User, s Session) {
	rates := s.Plan.Steps[s.Step].Rates
	if len(rates) == 0 {
		rates = ResonanceRates
	}
	e.mu.Lock()
	e.finderSeq++
	run := finder{step: s.Step, token: e.finderSeq}
	e.finders[s.ID] = run
	e.mu.Unlock()
	e.resonanceEpoch(ctx, by, s.ID, run, rates, 0)
}

// resonanceEpoch paces epoch i, or ends the run after the last.
func (e *Engine) resonanceEpoch(ctx context.Context, by auth.User, id string, run finder, rates []float64, i int) {
	s, err := e.Get(ctx, id)
	e.mu.Lock()
	current := e.finders[id] == run
	e.mu.Unlock()
	if !current {
		return
	}
	if err != nil || s.State != Running || s.Step != run.step {
		e.stopResonance(ctx, id, run, "the session was paused or left the step")
		return
	}
	if i == len(rates) {
		e.finishResonance(ctx, by, s, run)
		return
	}
	epoch := e.ResonanceEpoch
	if epoch <= 0 {
		epoch = DefaultResonanceEpoch
	}
	if _, err := e.log.Append(ctx, eventlog.Record{Stream: id, Source: source(by), Kind: "resonance.epoch",
		Data: mustJSON(map[string]any{"index": i, "bpm": rates[i], "epoch_s": epoch.Seconds(), "step": run.step})}); err != nil {
		e.logger.Error("resonance finder: epoch not logged", "session", id, "err", err)
		return
	}
	e.paceStations(ctx, by, s, rates[i])
	after := e.after
	if after == nil {
		after = realAfter
	}
	after(epoch, func() { e.resonanceEpoch(e.ctx, by, id, run, rates, i+1) })
}

// paceStations sets the breathing guide of every station that has one.
func (e *Engine) paceStations(ctx context.Context, by auth.User, s Session, bpm float64) {
	for _, dev := range s.Stations {
		if _, err := e.sendIfTaken(ctx, by, s.ID, dev, "breathing.set", mustJSON(map[string]any{"bpm": bpm})); err != nil {
			e.logger.Warn("resonance finder: pace", "session", s.ID, "device", dev, "err", err)
		}
	}
}

// finderOf is the session's run, if one is going.
func (e *Engine) finderOf(id string) (finder, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	run, ok := e.finders[id]
	return run, ok
}

// endResonance ends the session's run, if any, without a result.
func (e *Engine) endResonance(ctx context.Context, id, why string) {
	if run, ok := e.finderOf(id); ok {
		e.stopResonance(ctx, id, run, why)
	}
}

// stopResonance ends a run without a result.
func (e *Engine) stopResonance(ctx context.Context, id string, run finder, why string) {
	e.mu.Lock()
	if e.finders[id] != run {
		e.mu.Unlock()
		return
	}
	delete(e.finders, id)
	e.mu.Unlock()
	e.log.Append(ctx, eventlog.Record{Stream: id, Source: "system", Kind: "resonance.stopped",
		Data: mustJSON(map[string]any{"step": run.step, "reason": why})})
}

// Resonance is a finished run: the rate found (nil when no epoch had
// enough beats), the station whose beats were used, and every epoch.
type Resonance struct {
	BPM    *float64          `json:"bpm"`
	Device string            `json:"device,omitempty"`
	Step   int               `json:"step"`
	Epochs []hrv.EpochResult `json:"epochs"`
}

// finishResonance measures the run's epochs, logs the result, keeps the
// rate on the client's record and paces the breathing at it.
func (e *Engine) finishResonance(ctx context.Context, by auth.User, s Session, run finder) {
	e.mu.Lock()
	delete(e.finders, s.ID)
	e.mu.Unlock()
	res, err := e.measureResonance(ctx, s.ID, run.step)
	if err != nil {
		e.logger.Error("resonance finder: not measured", "session", s.ID, "err", err)
		return
	}
	_, err = e.log.AppendWith(ctx, func(tx *sql.Tx) error {
		if res.BPM == nil || s.Client == "" || s.Client == StaffCode {
			return nil
		}
		_, err := tx.Exec(`UPDATE clients SET resonance_bpm = ?, resonance_found = ? WHERE code = ?`, *res.BPM, sqlite.FormatTime(e.now().UTC()), s.Client)
		return err
	}, eventlog.Record{Stream: s.ID, Source: "system", Kind: "resonance.found", Data: mustJSON(res)})
	if err != nil {
		e.logger.Error("resonance finder: result not stored", "session", s.ID, "err", err)
		return
	}
	if res.BPM != nil {
		e.paceStations(ctx, by, s, *res.BPM)
	}
}

// measureResonance reads the run's epochs (the last run of the step) and
// the beats of the station that gave the most during them.
func (e *Engine) measureResonance(ctx context.Context, id string, step int) (Resonance, error) {
	res := Resonance{Step: step, Epochs: []hrv.EpochResult{}}
	var epochs []struct {
		bpm      float64
		from, to time.Time
	}
	for after := int64(0); ; {
		page, err := e.log.Read(ctx, id, after, 1000)
		if err != nil {
			return res, err
		}
		for _, ev := range page {
			after = ev.Seq
			if ev.Kind != "resonance.epoch" {
				continue
			}
			var d struct {
				Index int     `json:"index"`
				BPM   float64 `json:"bpm"`
				Step  int     `json:"step"`
			}
			if json.Unmarshal(ev.Data, &d) != nil || d.Step != step {
				continue
			}
			if d.Index == 0 {
				epochs = epochs[:0] // a new run of the step
			}
			epochs = append(epochs, struct {
				bpm      float64
				from, to time.Time
			}{d.BPM, ev.TS, time.Time{}})
		}
		if len(page) < 1000 {
			break
		}
	}
	if len(epochs) == 0 {
		return res, errors.New("no epochs logged")
	}
	now := e.now().UTC()
	for i := range epochs {
		epochs[i].to = now
		if i+1 < len(epochs) {
			epochs[i].to = epochs[i+1].from
		}
	}
	// The station with the most beats over the run.
	err := e.db.R.QueryRowContext(ctx, `SELECT device_id FROM telemetry WHERE stream = ? AND name = 'rr_interval' AND ts >= ? AND ts < ?
		GROUP BY device_id ORDER BY count(*) DESC, device_id LIMIT 1`, id, sqlite.FormatTime(epochs[0].from), sqlite.FormatTime(now)).Scan(&res.Device)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("resonance beats: %w", err)
	}
	var in []hrv.Epoch
	for _, ep := range epochs {
		var rr []float64
		rows, err := e.db.R.QueryContext(ctx, `SELECT value FROM telemetry WHERE stream = ? AND device_id = ? AND name = 'rr_interval' AND ts >= ? AND ts < ? ORDER BY ts, rowid`,
			id, res.Device, sqlite.FormatTime(ep.from), sqlite.FormatTime(ep.to))
		if err != nil {
			return res, fmt.Errorf("resonance beats: %w", err)
		}
		for rows.Next() {
			var v float64
			rows.Scan(&v)
			rr = append(rr, v)
		}
		rows.Close()
		in = append(in, hrv.Epoch{BPM: ep.bpm, RR: rr})
	}
	best, results, ok := hrv.Resonance(in)
	res.Epochs = results
	if ok {
		res.BPM = &best
	}
	return res, nil
}

// resonanceOf is a client's resonance breathing rate, 0 when none is known.
func (e *Engine) resonanceOf(ctx context.Context, code string) float64 {
	var bpm sql.NullFloat64
	e.db.R.QueryRowContext(ctx, `SELECT resonance_bpm FROM clients WHERE code = ?`, code).Scan(&bpm)
	return bpm.Float64
}
