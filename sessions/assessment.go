package sessions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"waystation/content"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
	"waystation/sessions/hrv"
)

// Phases of an assessment row.
const (
	PhaseBaseline   = "baseline"   // level 0 of an assessment program
	PhaseCue        = "cue"        // a cue level of an assessment program
	PhaseImagery    = "imagery"    // an imagery program (counter-conditioning)
	PhaseRelaxation = "relaxation" // a relaxation program before any cue
	PhaseRecovery   = "recovery"   // a relaxation program or step after a cue
)

// Assessment is the cue-reactivity result of a session: for each level the
// client went through, the rating asked at that level and the heart's
// response against the neutral baseline.
//
// Heart rate and heart-rate variability come from one station (Device):
// where it gives beat-to-beat (RR) intervals, they pass package hrv's
// artifact gate and the mean heart rate of a level is 60000 / mean RR, SDNN
// the sample standard deviation of its RR intervals and RMSSD the root mean
// square of successive differences (taken only between beats of one
// unbroken span, not across a pause or an artifact); Beats counts the
// intervals accepted. Where it gives heart rate only, the mean heart rate is
// the mean of its readings and there is no SDNN or RMSSD. Changes are the
// level's value minus the baseline's: the last baseline before the level.
type Assessment struct {
	Session string `json:"session"`
	Client  string `json:"client"`
	// Device is the station whose readings were used; Sources lists every
	// station that gave heart rate or RR intervals in the session.
	Device  string   `json:"device,omitempty"`
	Sources []string `json:"sources"`
	// Final is set once the session is over and the result cannot change.
	Final    bool          `json:"final"`
	Computed time.Time     `json:"computed"`
	Levels   []LevelResult `json:"levels"`
}

// LevelResult is one level's row of an assessment. Values that could not
// be computed (no readings, too few beats) are null.
type LevelResult struct {
	Step    int       `json:"step"`
	Program string    `json:"program"`
	Level   int       `json:"level"`
	Device  string    `json:"device,omitempty"` // the station that ran it
	Phase   string    `json:"phase"`
	TitleEN string    `json:"title_en"`
	TitleZH string    `json:"title_zh"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	// Rating names what was asked at this level ("craving"), Craving is the
	// client's last answer (0-10), and Overridden says the counsellor moved
	// on without one.
	Rating     string   `json:"rating,omitempty"`
	Craving    *float64 `json:"craving"`
	Overridden bool     `json:"overridden,omitempty"`
	// HRSource is "rr" or "heart_rate": what the mean heart rate is from.
	HRSource     string   `json:"hr_source,omitempty"`
	Readings     int      `json:"readings"`
	Beats        int      `json:"beats"`
	MeanHR       *float64 `json:"mean_hr"`
	MeanHRChange *float64 `json:"mean_hr_change"`
	SDNN         *float64 `json:"sdnn_ms"`
	RMSSD        *float64 `json:"rmssd_ms"`
	SDNNChange   *float64 `json:"sdnn_change_ms"`
	RMSSDChange  *float64 `json:"rmssd_change_ms"`
}

// span is a stretch of time in one row, [from, to).
type span struct {
	from, to time.Time
	row      int
}

// reading is one stored heart rate or RR interval.
type reading struct {
	device string
	ts     time.Time
	name   string
	value  float64
}

// Assessment returns the session's assessment: the stored one once the
// session is over, else computed from its log now. device picks the station
// whose readings are used; empty picks the one with the most RR intervals
// (then the most heart-rate readings).
func (e *Engine) Assessment(ctx context.Context, id, device string) (Assessment, error) {
	s, err := e.Get(ctx, id)
	if err != nil {
		return Assessment{}, err
	}
	if s.State != Ended && s.State != Aborted {
		return e.computeAssessment(ctx, s, device)
	}
	a, err := e.storedAssessment(ctx, id, device)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := e.db.R.QueryRowContext(ctx, `SELECT count(*) FROM assessments WHERE session_id = ?`, id).Scan(&n); err != nil {
			return a, fmt.Errorf("assessment of %s: %w", id, err)
		}
		if n == 0 { // the controller stopped before storing it
			if err := e.storeAssessment(ctx, s); err != nil {
				return a, err
			}
			a, err = e.storedAssessment(ctx, id, device)
		}
		if errors.Is(err, sql.ErrNoRows) { // a station without heart readings, or no levels
			return e.computeAssessment(ctx, s, device)
		}
	}
	return a, err
}

// ClientAssessments returns the stored assessments of a client's sessions,
// oldest first, to compare them over time: each session's primary one.
func (e *Engine) ClientAssessments(ctx context.Context, code string) ([]Assessment, error) {
	if _, err := e.Clients.GetClient(ctx, code); err != nil {
		return nil, err
	}
	rows, err := e.db.R.QueryContext(ctx, `SELECT data FROM assessments WHERE client_code = ? AND is_primary = 1 ORDER BY computed LIMIT 1000`, code)
	if err != nil {
		return nil, fmt.Errorf("assessments of %s: %w", code, err)
	}
	defer rows.Close()
	out := []Assessment{}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("assessments of %s: %w", code, err)
		}
		var a Assessment
		if err := json.Unmarshal([]byte(data), &a); err != nil {
			return nil, fmt.Errorf("assessments of %s: stored result is damaged: %w", code, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// storedAssessment reads the stored assessment of a session from device's
// readings ("": the primary one).
func (e *Engine) storedAssessment(ctx context.Context, id, device string) (Assessment, error) {
	var data string
	q, args := `SELECT data FROM assessments WHERE session_id = ? AND is_primary = 1`, []any{id}
	if device != "" {
		q, args = `SELECT data FROM assessments WHERE session_id = ? AND device_id = ?`, []any{id, device}
	}
	if err := e.db.R.QueryRowContext(ctx, q, args...).Scan(&data); err != nil {
		return Assessment{}, err
	}
	var a Assessment
	if err := json.Unmarshal([]byte(data), &a); err != nil {
		return Assessment{}, fmt.Errorf("assessment of %s: stored result is damaged: %w", id, err)
	}
	return a, nil
}

// storeAssessment computes a finished session's assessment from each
// station that gave heart readings and keeps them, with an
// assessment.stored event in the session's log. A session in which no
// level ran has nothing to store; one stored already is left as it is.
func (e *Engine) storeAssessment(ctx context.Context, s Session) error {
	primary, err := e.computeAssessment(ctx, s, "")
	if err != nil || len(primary.Levels) == 0 {
		return err
	}
	all := []Assessment{primary}
	for _, d := range primary.Sources {
		if d != primary.Device {
			a, err := e.computeAssessment(ctx, s, d)
			if err != nil {
				return err
			}
			all = append(all, a)
		}
	}
	_, err = e.log.AppendWith(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM assessments WHERE session_id = ?`, s.ID).Scan(&n); err != nil || n > 0 {
			if err == nil {
				err = errAlreadyStored
			}
			return err
		}
		for i, a := range all {
			client := s.Client
			if s.Group() { // a group's: kept for the member whose station measured it
				if client = s.MemberOf(a.Device); client == "" {
					continue
				}
				a.Client = client
			}
			data, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO assessments (session_id, device_id, is_primary, client_code, computed, data) VALUES (?, ?, ?, ?, ?, ?)`,
				s.ID, a.Device, i == 0, client, sqlite.FormatTime(a.Computed), string(data)); err != nil {
				return err
			}
		}
		return nil
	}, eventlog.Record{Stream: s.ID, Source: "controller", Kind: "assessment.stored",
		Data: mustJSON(map[string]any{"levels": len(primary.Levels), "device": primary.Device, "sources": primary.Sources})})
	if err != nil && !errors.Is(err, errAlreadyStored) {
		return fmt.Errorf("store the assessment of %s: %w", s.ID, err)
	}
	return nil
}

// errAlreadyStored ends a store that another one beat.
var errAlreadyStored = waystation.Errorf(waystation.ECONFLICT, "the assessment is stored already")

// computeAssessment works the assessment out from the session's log and
// telemetry.
func (e *Engine) computeAssessment(ctx context.Context, s Session, device string) (Assessment, error) {
	a := Assessment{Session: s.ID, Client: s.Client, Final: s.State == Ended || s.State == Aborted,
		Computed: e.now().UTC(), Sources: []string{}, Levels: []LevelResult{}}
	tl, err := e.timeline(ctx, s.ID)
	if err != nil {
		return a, err
	}
	spans := e.rows(s, tl, &a)
	readings, counts, err := e.heartReadings(ctx, s.ID)
	if err != nil {
		return a, err
	}
	for d := range counts {
		a.Sources = append(a.Sources, d)
	}
	sort.Slice(a.Sources, func(i, j int) bool {
		ci, cj := counts[a.Sources[i]], counts[a.Sources[j]]
		if ci[1] != cj[1] {
			return ci[1] > cj[1] // most RR intervals
		}
		if ci[0] != cj[0] {
			return ci[0] > cj[0] // then most heart-rate readings
		}
		return a.Sources[i] < a.Sources[j]
	})
	switch {
	case device != "":
		st, err := e.stationsOf(ctx, s.ID)
		if err != nil {
			return a, err
		}
		if !st[device] {
			return a, waystation.Errorf(waystation.ENOTFOUND, "device %q is not a station of session %s", device, s.ID)
		}
		a.Device = device
	case len(a.Sources) > 0:
		a.Device = a.Sources[0]
	}
	measure(a.Levels, spans, readings, a.Device)
	return a, nil
}

// rows turns the timeline into the assessment's rows and the spans of
// time each row covers. A row's time runs from its level.started until the
// next level, step, stop or pause; a resume opens a new span of the same
// row.
func (e *Engine) rows(s Session, tl []waystation.Event, a *Assessment) []span {
	failed := failedCommands(tl)
	var spans []span
	cur := -1     // the row taking time now
	paused := -1  // the row a pause interrupted
	cued := false // a cue level has run: relaxation from now on is recovery
	open := func(row int, at time.Time) {
		cur = row
		spans = append(spans, span{from: at, row: row})
	}
	closeAt := func(at time.Time) {
		if cur >= 0 {
			spans[len(spans)-1].to = at
			a.Levels[cur].Seconds += at.Sub(spans[len(spans)-1].from).Seconds()
		}
		cur = -1
	}
	addRow := func(r LevelResult) int {
		a.Levels = append(a.Levels, r)
		return len(a.Levels) - 1
	}
	for _, ev := range tl {
		switch ev.Kind {
		case KindLevelStarted:
			var le levelData
			if json.Unmarshal(ev.Data, &le) != nil || failed[le.Command] {
				continue
			}
			closeAt(ev.TS)
			paused = -1
			r := LevelResult{Step: le.Step, Program: le.Program, Level: le.Level, Device: le.Device, Started: ev.TS}
			it, _ := content.Get(le.Program)
			for _, l := range it.Levels {
				if l.Level == le.Level {
					r.TitleEN, r.TitleZH, r.Rating = l.TitleEN, l.TitleZH, l.Rating
				}
			}
			if r.Rating == "" && le.Step >= 0 && le.Step < len(s.Plan.Steps) && s.Plan.Steps[le.Step].Rating {
				r.Rating = "rating" // the plan asks for one where the program names none
			}
			switch {
			case it.Purpose == content.PurposeAssessment && le.Level == 0:
				r.Phase = PhaseBaseline
			case it.Purpose == content.PurposeAssessment:
				r.Phase, cued = PhaseCue, true
			case it.Purpose == content.PurposeImagery:
				r.Phase = PhaseImagery
			case cued:
				r.Phase = PhaseRecovery
			default:
				r.Phase = PhaseRelaxation
			}
			open(addRow(r), ev.TS)
		case KindRatingAnswer:
			// The answer belongs to the last level that asks for one.
			v, ok := ratingValue(ev.Data)
			for i := len(a.Levels) - 1; ok && i >= 0; i-- {
				if a.Levels[i].Rating != "" {
					a.Levels[i].Craving = &v
					break
				}
			}
		case KindLevelOverride:
			if len(a.Levels) > 0 {
				a.Levels[len(a.Levels)-1].Overridden = true
			}
		case "plan.step":
			closeAt(ev.TS)
			paused = -1
			var d struct {
				To   int  `json:"to"`
				Step Step `json:"step"`
			}
			json.Unmarshal(ev.Data, &d)
			if d.Step.Kind == StepRelaxation && cued {
				// A relaxation step on the kiosk after the cues: its
				// whole time is recovery.
				open(addRow(LevelResult{Step: d.To, Program: d.Step.Scene, Phase: PhaseRecovery, Started: ev.TS,
					TitleEN: "Relaxation", TitleZH: "放松"}), ev.TS)
			}
		case "command.sent":
			var d struct {
				Name string `json:"name"`
			}
			json.Unmarshal(ev.Data, &d)
			switch d.Name {
			case "program.stop":
				closeAt(ev.TS)
				paused = -1
			case "program.pause":
				paused = cur
				closeAt(ev.TS)
			case "program.resume":
				if paused >= 0 && cur < 0 {
					open(paused, ev.TS)
				}
			}
		case "session.paused", "session.interrupted":
			if cur >= 0 {
				paused = cur
			}
			closeAt(ev.TS)
		case "session.resumed":
			if paused >= 0 && cur < 0 {
				open(paused, ev.TS)
			}
			paused = -1
		case "session.ended", "session.aborted":
			closeAt(ev.TS)
		}
	}
	if cur >= 0 { // still running: up to now
		last := &spans[len(spans)-1]
		a.Levels[cur].Seconds += e.now().Sub(last.from).Seconds()
	}
	return spans
}

// heartReadings reads a session's heart rates and RR intervals in the
// order they were stored, and counts them per device: [heart rates, RR].
func (e *Engine) heartReadings(ctx context.Context, id string) ([]reading, map[string][2]int, error) {
	rows, err := e.db.R.QueryContext(ctx, `SELECT device_id, ts, name, value FROM telemetry
		WHERE stream = ? AND name IN ('heart_rate', 'rr_interval') ORDER BY rowid`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("readings of %s: %w", id, err)
	}
	defer rows.Close()
	var out []reading
	counts := map[string][2]int{}
	for rows.Next() {
		var r reading
		if err := rows.Scan(&r.device, sqlite.ScanTime(&r.ts), &r.name, &r.value); err != nil {
			return nil, nil, fmt.Errorf("readings of %s: %w", id, err)
		}
		c := counts[r.device]
		if r.name == "rr_interval" {
			c[1]++
		} else {
			c[0]++
		}
		counts[r.device] = c
		out = append(out, r)
	}
	return out, counts, rows.Err()
}

// measure fills the rows' heart figures from device's readings.
func measure(rowsOut []LevelResult, spans []span, readings []reading, device string) {
	type acc struct {
		hrSum    float64
		hr       int
		segments [][]float64 // RR intervals, one segment per unbroken span
		lastSpan int
	}
	accs := make([]acc, len(rowsOut))
	for i := range accs {
		accs[i].lastSpan = -1
	}
	for _, r := range readings {
		if r.device != device {
			continue
		}
		// The last span starting at or before the reading.
		i := sort.Search(len(spans), func(i int) bool { return spans[i].from.After(r.ts) }) - 1
		if i < 0 || (!spans[i].to.IsZero() && !r.ts.Before(spans[i].to)) {
			continue // between rows
		}
		ac := &accs[spans[i].row]
		if r.name == "heart_rate" {
			ac.hrSum += r.value
			ac.hr++
			continue
		}
		if ac.lastSpan != i {
			ac.segments = append(ac.segments, nil)
		}
		ac.lastSpan = i
		ac.segments[len(ac.segments)-1] = append(ac.segments[len(ac.segments)-1], r.value)
	}
	for i := range rowsOut {
		row, ac := &rowsOut[i], accs[i]
		td := hrv.TimeDomain(ac.segments)
		row.Readings, row.Beats = ac.hr, td.N
		switch {
		case td.N > 0:
			row.HRSource, row.MeanHR, row.SDNN, row.RMSSD = "rr", td.MeanHR, td.SDNN, td.RMSSD
		case ac.hr > 0:
			row.HRSource, row.MeanHR = "heart_rate", ptr(ac.hrSum/float64(ac.hr))
		}
	}
	baseline := -1
	for i := range rowsOut {
		row := &rowsOut[i]
		if row.Phase == PhaseBaseline && row.MeanHR != nil {
			baseline = i
		}
		if baseline < 0 {
			continue
		}
		b := rowsOut[baseline]
		row.MeanHRChange = diff(row.MeanHR, b.MeanHR)
		row.SDNNChange = diff(row.SDNN, b.SDNN)
		row.RMSSDChange = diff(row.RMSSD, b.RMSSD)
	}
}

func ptr(v float64) *float64 { return &v }

// diff is a - b, or nil when either is unknown.
func diff(a, b *float64) *float64 {
	if a == nil || b == nil {
		return nil
	}
	return ptr(*a - *b)
}
