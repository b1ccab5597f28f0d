package sessions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
)

// Alert is something a counsellor must see and acknowledge: a client asked
// for help, a station was lost mid-session, a reading crossed its limit.
type Alert struct {
	ID      string     `json:"id"`
	Session string     `json:"session,omitempty"`
	Device  string     `json:"device,omitempty"`
	Kind    string     `json:"kind"`
	Risk    Risk       `json:"risk"`
	Level   int        `json:"level"`
	Raised  time.Time  `json:"raised"`
	Acked   *time.Time `json:"acked,omitempty"`
	AckedBy string     `json:"acked_by,omitempty"`
	// Resolved says why an alert closed by itself, its cause gone
	// (ResolvedStationBack, ResolvedSessionEnded); empty when a person
	// acknowledged it.
	Resolved string          `json:"resolved,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// stream is where an alert's events are logged: its session's stream, or
// its device's own log when no session is involved.
func (a Alert) stream() string {
	if a.Session != "" {
		return a.Session
	}
	return a.Device
}

// MaxAlertLevel is the highest escalation level.
const MaxAlertLevel = 3

// EscalateAfter is how long an alert may stay unacknowledged before it
// escalates one level, by the client's risk tier: high-risk clients' alerts
// escalate fastest.
var EscalateAfter = map[Risk]time.Duration{
	High:   30 * time.Second,
	Medium: 60 * time.Second,
	Low:    120 * time.Second,
}

// pendingAlert is an alert to raise, queued by the event log's writer.
type pendingAlert struct {
	session, device, kind string
	data                  json.RawMessage
}

// Observe implements the event log's Publisher for the engine: a committed
// help.requested raises an alert; a self-check's answers and its end go to
// observeScale. It never blocks.
func (e *Engine) Observe(events []waystation.Event) {
	for _, ev := range events {
		if _, gone := e.forgotten.Load(ev.Stream); gone {
			e.forget.push(ev.Stream)
		}
		if ev.Kind == "scale.answer" || ev.Kind == "scale.done" {
			e.observeScale(ev)
			continue
		}
		if ev.Kind != "help.requested" {
			continue
		}
		dev, _ := strings.CutPrefix(ev.Source, "device:")
		p := pendingAlert{device: dev, kind: "help.requested", data: mustJSON(map[string]any{"seq": ev.Seq, "stream": ev.Stream})}
		if strings.HasPrefix(ev.Stream, "s-") {
			p.session = ev.Stream
		}
		e.alerts.push(p)
	}
}

// DeviceStatus tells the engine a device came online or went offline; a
// station lost from a running or paused session raises an alert.
func (e *Engine) DeviceStatus(d waystation.Device, online bool) {
	e.mu.Lock()
	sess, ok := e.active[d.ID]
	e.mu.Unlock()
	if online {
		// Neither may wait on the transport that tells us: both run apart.
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.resolveAlerts(e.ctx, `a.kind = 'device.lost' AND a.device_id = ?`, []any{d.ID}, ResolvedStationBack)
			if ok {
				e.rejoin(e.ctx, d.ID, sess)
			}
		}()
		return
	}
	if !ok {
		return
	}
	e.alerts.push(pendingAlert{session: sess, device: d.ID, kind: "device.lost",
		data: mustJSON(map[string]string{"name": d.Name, "room": d.Room})})
}

// runAlerts raises queued alerts and escalates open ones until stop closes,
// then raises whatever is still queued.
func (e *Engine) runAlerts(stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			e.raiseQueued()
			return
		case <-e.alerts.wake:
			e.raiseQueued()
		case <-tick.C:
			e.escalate(context.Background())
		}
	}
}

func (e *Engine) raiseQueued() {
	for _, p := range e.alerts.take() {
		if err := e.raise(context.Background(), p); err != nil {
			e.logger.Error("raise alert", "kind", p.kind, "session", p.session, "device", p.device, "err", err)
		}
	}
}

func (e *Engine) raise(ctx context.Context, p pendingAlert) error {
	a := Alert{ID: waystation.NewID("a-"), Session: p.session, Device: p.device, Kind: p.kind, Risk: Medium, Level: 1, Raised: e.now().UTC(), Data: p.data}
	if p.session != "" {
		if s, err := e.Get(ctx, p.session); err == nil {
			a.Risk = s.Risk
		}
	}
	_, err := e.log.AppendWith(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO alerts (id, session_id, device_id, kind, risk, level, raised, data) VALUES (?, NULLIF(?, ''), ?, ?, ?, 1, ?, ?)`,
			a.ID, a.Session, a.Device, a.Kind, string(a.Risk), sqlite.FormatTime(a.Raised), string(a.Data))
		return err
	}, eventlog.Record{Stream: a.stream(), Source: "system", Kind: "alert.raised", Data: mustJSON(a)})
	if err != nil {
		return err
	}
	e.logger.Warn("alert raised", "alert", a.ID, "kind", a.Kind, "session", a.Session, "device", a.Device, "risk", a.Risk)
	e.notify(a)
	return nil
}

func (e *Engine) notify(a Alert) {
	if e.OnAlert != nil {
		e.OnAlert(a)
	}
}

// escalate raises the level of open alerts left unacknowledged too long.
func (e *Engine) escalate(ctx context.Context) {
	open, err := e.OpenAlerts(ctx)
	if err != nil {
		e.logger.Error("escalate alerts", "err", err)
		return
	}
	now := e.now()
	for _, a := range open {
		if a.Level >= MaxAlertLevel || now.Sub(a.Raised) < time.Duration(a.Level)*EscalateAfter[a.Risk] {
			continue
		}
		a.Level++
		_, err := e.log.AppendWith(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE alerts SET level = ? WHERE id = ? AND acked IS NULL`, a.Level, a.ID)
			return err
		}, eventlog.Record{Stream: a.stream(), Source: "system", Kind: "alert.escalated", Data: mustJSON(a)})
		if err != nil {
			e.logger.Error("escalate alert", "alert", a.ID, "err", err)
			continue
		}
		e.logger.Warn("alert escalated", "alert", a.ID, "level", a.Level, "risk", a.Risk)
		e.notify(a)
	}
}

const alertColumns = `a.id, COALESCE(a.session_id, ''), COALESCE(a.device_id, ''), a.kind, a.risk, a.level, a.raised, a.acked, COALESCE(u.name, ''), a.data, a.resolved
	FROM alerts a LEFT JOIN users u ON u.id = a.acked_by`

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var risk string
	var data sql.NullString
	if err := sc.Scan(&a.ID, &a.Session, &a.Device, &a.Kind, &risk, &a.Level, sqlite.ScanTime(&a.Raised), sqlite.ScanNullTime(&a.Acked), &a.AckedBy, &data, &a.Resolved); err != nil {
		return a, err
	}
	a.Risk = Risk(risk)
	if data.Valid && data.String != "" {
		a.Data = json.RawMessage(data.String)
	}
	return a, nil
}

// OpenAlerts returns the alerts not yet acknowledged, oldest first.
func (e *Engine) OpenAlerts(ctx context.Context) ([]Alert, error) {
	return e.openAlerts(ctx, "1")
}

// openAlerts returns the open alerts that also match where (over alerts a,
// with args), oldest first.
func (e *Engine) openAlerts(ctx context.Context, where string, args ...any) ([]Alert, error) {
	rows, err := e.db.R.QueryContext(ctx, `SELECT `+alertColumns+` WHERE a.acked IS NULL AND (`+where+`) ORDER BY a.raised`, args...)
	if err != nil {
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("open alerts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetAlert returns one alert.
func (e *Engine) GetAlert(ctx context.Context, id string) (Alert, error) {
	a, err := scanAlert(e.db.R.QueryRowContext(ctx, `SELECT `+alertColumns+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, waystation.Errorf(waystation.ENOTFOUND, "unknown alert %q", id)
	}
	if err != nil {
		return a, fmt.Errorf("get alert %s: %w", id, err)
	}
	return a, nil
}

// AckAlert records that a counsellor has seen to an alert; it closes it.
func (e *Engine) AckAlert(ctx context.Context, by auth.User, id string) (Alert, error) {
	a, err := e.GetAlert(ctx, id)
	if err != nil {
		return a, err
	}
	now := e.now().UTC()
	acked := a
	acked.Acked, acked.AckedBy = &now, by.Name
	_, err = e.log.AppendWith(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE alerts SET acked = ?, acked_by = ? WHERE id = ? AND acked IS NULL`, sqlite.FormatTime(now), by.ID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return waystation.Errorf(waystation.ECONFLICT, "alert %s was already acknowledged", id)
		}
		return nil
	}, eventlog.Record{Stream: a.stream(), Source: source(by), Kind: "alert.acked", Data: mustJSON(acked)})
	if err != nil {
		return a, err
	}
	e.notify(acked)
	return acked, nil
}

// Why an alert closed by itself.
const (
	ResolvedStationBack  = "station_back"  // a lost station came back online
	ResolvedSessionEnded = "session_ended" // its session ended or was aborted
)

// resolveAlerts closes the open alerts matching where (over alerts a, with
// args) because their cause is gone: each is logged as alert.resolved in
// its session (or its device's log) with why, and told like an ack, so a
// station lost and back, or a session ended, leaves no alert escalating.
func (e *Engine) resolveAlerts(ctx context.Context, where string, args []any, why string) {
	open, err := e.openAlerts(ctx, where, args...)
	if err != nil {
		e.logger.Error("resolve alerts", "why", why, "err", err)
		return
	}
	for _, a := range open {
		now := e.now().UTC()
		a.Acked, a.Resolved = &now, why
		done := false
		_, err := e.log.AppendWith(ctx, func(tx *sql.Tx) error {
			res, err := tx.Exec(`UPDATE alerts SET acked = ?, resolved = ? WHERE id = ? AND acked IS NULL`, sqlite.FormatTime(now), why, a.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errAlreadyClosed // a counsellor acknowledged it meanwhile
			}
			done = true
			return nil
		}, eventlog.Record{Stream: a.stream(), Source: "system", Kind: "alert.resolved", Data: mustJSON(a)})
		if err != nil && !errors.Is(err, errAlreadyClosed) {
			e.logger.Error("resolve alert", "alert", a.ID, "why", why, "err", err)
		}
		if done && err == nil {
			e.logger.Info("alert resolved by itself", "alert", a.ID, "kind", a.Kind, "why", why)
			e.notify(a)
		}
	}
}

// errAlreadyClosed rolls back a resolution that lost the race to an ack.
var errAlreadyClosed = errors.New("alert already closed")

// Threshold is a reading limit that raises an alert when a station's
// reading stays above it for Sustain.
type Threshold struct {
	Reading string
	Above   map[Risk]float64
	Sustain time.Duration
}

// DefaultThresholds: a heart rate held high is a sign of distress, and the
// limit is lower for clients of higher risk.
var DefaultThresholds = []Threshold{
	{Reading: "heart_rate", Above: map[Risk]float64{Low: 140, Medium: 130, High: 120}, Sustain: 15 * time.Second},
}

// overKey names one reading of one station in one session.
type overKey struct{ session, device, reading string }

// overState is how long a reading has been over its limit, and whether
// that spell has raised its alert.
type overState struct {
	since  time.Time
	raised bool
}

// Readings checks a station's readings against the thresholds; a reading
// held over its limit raises one alert per spell. It never blocks.
func (e *Engine) Readings(deviceID, stream string, readings []eventlog.Reading) {
	if !strings.HasPrefix(stream, "s-") {
		return
	}
	now := e.now()
	for _, r := range readings {
		for _, th := range e.Thresholds {
			if th.Reading != r.Name {
				continue
			}
			risk := e.riskOf(stream)
			key := overKey{stream, deviceID, r.Name}
			e.mu.Lock()
			st, over := e.over[key]
			switch {
			case r.Value <= th.Above[risk]:
				delete(e.over, key)
			case !over:
				e.over[key] = &overState{since: now}
			case !st.raised && now.Sub(st.since) >= th.Sustain:
				st.raised = true
				e.alerts.push(pendingAlert{session: stream, device: deviceID, kind: "telemetry.threshold",
					data: mustJSON(map[string]any{"reading": r.Name, "value": r.Value, "limit": th.Above[risk], "for_s": int(now.Sub(st.since).Seconds())})})
			}
			e.mu.Unlock()
		}
	}
}

// riskOf returns a session's client risk tier, cached (riskChanged keeps the
// cache true when a counsellor changes the tier during a session).
func (e *Engine) riskOf(session string) Risk {
	e.mu.Lock()
	r, ok := e.risks[session]
	e.mu.Unlock()
	if ok {
		return r
	}
	s, err := e.Get(context.Background(), session)
	if err != nil {
		return Medium
	}
	e.mu.Lock()
	e.risks[session] = s.Risk
	e.mu.Unlock()
	return s.Risk
}
