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

// stepRun is a timed run of a session's step (the resonance finder, or a
// biofeedback step's updates): the step it belongs to, what it is, and a
// token that a newer run or a stop replaces. A session has one at a time.
type stepRun struct {
	step  int
	kind  string // StepResonance, or "biofeedback"
	token uint64
}

// afterFunc runs f after d; tests replace it to end epochs when they
// choose. Its result stops the timer.
type afterFunc func(d time.Duration, f func()) (stop func() bool)

func realAfter(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// later runs f after d on the step timer, unless the engine is closing by
// then; Close waits for one that has begun.
func (e *Engine) later(d time.Duration, f func()) {
	after := e.after
	if after == nil {
		after = realAfter
	}
	after(d, func() {
		e.mu.Lock()
		if e.closing {
			e.mu.Unlock()
			return
		}
		e.wg.Add(1)
		e.mu.Unlock()
		defer e.wg.Done()
		f()
	})
}

// startResonance begins a run of the step the session is at.
func (e *Engine) startResonance(ctx context.Context, by auth.User, s Session) {
	rates := s.Plan.Steps[s.Step].Rates
	if len(rates) == 0 {
		rates = ResonanceRates
	}
	run := e.newRun(s, StepResonance)
	e.resonanceEpoch(ctx, by, s.ID, run, rates, 0)
}

// newRun makes a step's run the session's, replacing any other.
func (e *Engine) newRun(s Session, kind string) stepRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finderSeq++
	run := stepRun{step: s.Step, kind: kind, token: e.finderSeq}
	e.runs[s.ID] = run
	return run
}

// resonanceEpoch paces epoch i, or ends the run after the last.
func (e *Engine) resonanceEpoch(ctx context.Context, by auth.User, id string, run stepRun, rates []float64, i int) {
	s, err := e.Get(ctx, id)
	e.mu.Lock()
	current := e.runs[id] == run
	e.mu.Unlock()
	if !current {
		return
	}
	if err != nil || s.State != Running || s.Step != run.step {
		e.stopRun(ctx, id, run, "the session was paused or left the step")
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
	e.tellStations(ctx, by, s, "breathing.set", mustJSON(map[string]any{"bpm": rates[i]}))
	e.later(epoch, func() { e.resonanceEpoch(e.ctx, by, id, run, rates, i+1) })
}

// runOf is the session's run, if one is going.
func (e *Engine) runOf(id string) (stepRun, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	run, ok := e.runs[id]
	return run, ok
}

// endRun ends the session's run, if any (a finder without a result).
func (e *Engine) endRun(ctx context.Context, id, why string) {
	if run, ok := e.runOf(id); ok {
		e.stopRun(ctx, id, run, why)
	}
}

// stopRun ends a run: a resonance finder's is logged as stopped without
// a result; a biofeedback step's turns the scenes' feedback off.
func (e *Engine) stopRun(ctx context.Context, id string, run stepRun, why string) {
	e.mu.Lock()
	if e.runs[id] != run {
		e.mu.Unlock()
		return
	}
	delete(e.runs, id)
	e.mu.Unlock()
	if run.kind == StepResonance {
		e.log.Append(ctx, eventlog.Record{Stream: id, Source: "system", Kind: "resonance.stopped",
			Data: mustJSON(map[string]any{"step": run.step, "reason": why})})
		return
	}
	if s, err := e.Get(ctx, id); err == nil && s.State.Active() {
		e.tellStations(ctx, auth.User{}, s, "scene.set", mustJSON(map[string]any{"feedback": "off"}))
	}
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
func (e *Engine) finishResonance(ctx context.Context, by auth.User, s Session, run stepRun) {
	e.mu.Lock()
	delete(e.runs, s.ID)
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
		e.tellStations(ctx, by, s, "breathing.set", mustJSON(map[string]any{"bpm": *res.BPM}))
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
	evs, err := e.eventsOf(ctx, id, "resonance.epoch")
	if err != nil {
		return res, err
	}
	for _, ev := range evs {
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
	if res.Device, _, err = e.heartStation(ctx, id, epochs[0].from, now); err != nil {
		return res, err
	}
	var in []hrv.Epoch
	for _, ep := range epochs {
		rr, err := e.beats(ctx, id, res.Device, ep.from, ep.to)
		if err != nil {
			return res, err
		}
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

// heartStation is the station of a session that gave the most RR
// intervals from from up to to (none: up to now), and the time of its last
// one; "" when none gave any.
func (e *Engine) heartStation(ctx context.Context, session string, from, to time.Time) (string, time.Time, error) {
	q, args := `SELECT device_id, max(ts) FROM telemetry WHERE stream = ? AND name = 'rr_interval' AND ts >= ?`, []any{session, sqlite.FormatTime(from)}
	if !to.IsZero() {
		q, args = q+` AND ts < ?`, append(args, sqlite.FormatTime(to))
	}
	var dev string
	var last time.Time
	err := e.db.R.QueryRowContext(ctx, q+` GROUP BY device_id ORDER BY count(*) DESC, device_id LIMIT 1`, args...).Scan(&dev, sqlite.ScanTime(&last))
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("beats of %s: %w", session, err)
	}
	return dev, last, nil
}

// beats are a station's RR intervals in a session received from from up
// to to (none: up to now), in order.
func (e *Engine) beats(ctx context.Context, session, device string, from, to time.Time) ([]float64, error) {
	q, args := `SELECT value FROM telemetry WHERE stream = ? AND device_id = ? AND name = 'rr_interval' AND ts >= ?`, []any{session, device, sqlite.FormatTime(from)}
	if !to.IsZero() {
		q, args = q+` AND ts < ?`, append(args, sqlite.FormatTime(to))
	}
	rows, err := e.db.R.QueryContext(ctx, q+` ORDER BY ts, rowid`, args...)
	if err != nil {
		return nil, fmt.Errorf("beats of %s: %w", device, err)
	}
	defer rows.Close()
	var rr []float64
	for rows.Next() {
		var v float64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("beats of %s: %w", device, err)
		}
		rr = append(rr, v)
	}
	return rr, rows.Err()
}
