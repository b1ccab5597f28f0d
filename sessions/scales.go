package sessions

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"waystation/content"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
	"waystation/sessions/scale"
)

// Scales are the measurement scales this site may use: the files loaded,
// and which licensed ones an admin has enabled.
type Scales struct {
	db  *sqlite.DB
	now func() time.Time
	// Set returns the loaded scales; nil means none.
	Set func() *scale.Set
}

func (ss *Scales) set() *scale.Set {
	if ss.Set == nil {
		return &scale.Set{} // none loaded: every scale is unknown
	}
	return ss.Set()
}

// enabled says which licensed scales are switched on.
func (ss *Scales) enabled(ctx context.Context) (map[string]bool, error) {
	rows, err := ss.db.R.QueryContext(ctx, `SELECT scale_id, enabled FROM scale_settings`)
	if err != nil {
		return nil, fmt.Errorf("read scale settings: %w", err)
	}
	defer rows.Close()
	on := map[string]bool{}
	for rows.Next() {
		var id string
		var en bool
		if err := rows.Scan(&id, &en); err != nil {
			return nil, fmt.Errorf("read scale settings: %w", err)
		}
		on[id] = en
	}
	return on, rows.Err()
}

// List describes every scale for the content catalogue (kind "scale").
func (ss *Scales) List(ctx context.Context) ([]content.Item, error) {
	on, err := ss.enabled(ctx)
	if err != nil {
		return nil, err
	}
	items := []content.Item{}
	for _, sc := range ss.set().List() {
		licensed, enabled := sc.Licensed, !sc.Licensed || on[sc.ID]
		items = append(items, content.Item{ID: sc.ID, Kind: "scale", TitleEN: sc.TitleEN, TitleZH: sc.TitleZH,
			Items: len(sc.Items), Licensed: &licensed, Enabled: &enabled})
	}
	return items, nil
}

// Get returns a loaded scale by id, whether or not it is enabled.
func (ss *Scales) Get(id string) (*scale.Scale, bool) { return ss.set().Get(id) }

// Usable returns a scale that may be given here, or why not.
func (ss *Scales) Usable(ctx context.Context, id string) (*scale.Scale, error) {
	sc, ok := ss.set().Get(id)
	if !ok {
		var ids []string
		for _, s := range ss.set().List() {
			ids = append(ids, s.ID)
		}
		return nil, waystation.Errorf(waystation.ENOTFOUND, "no scale %q (scales: %s)", id, strings.Join(ids, ", "))
	}
	if !sc.Licensed {
		return sc, nil
	}
	on, err := ss.enabled(ctx)
	if err != nil {
		return nil, err
	}
	if !on[id] {
		return nil, waystation.Errorf(waystation.ECONFLICT, "scale %s is used under licence and is off at this site; an admin enables it once the licence is held", id)
	}
	return sc, nil
}

// Enable switches a licensed scale on or off at this site.
func (ss *Scales) Enable(ctx context.Context, by auth.User, id string, on bool) error {
	sc, ok := ss.set().Get(id)
	if !ok {
		return waystation.Errorf(waystation.ENOTFOUND, "no scale %q", id)
	}
	if !sc.Licensed {
		return waystation.Errorf(waystation.ECONFLICT, "scale %s is free to use; only licensed scales are switched on and off", id)
	}
	_, err := ss.db.W.ExecContext(ctx, `INSERT INTO scale_settings (scale_id, enabled, changed, changed_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (scale_id) DO UPDATE SET enabled = excluded.enabled, changed = excluded.changed, changed_by = excluded.changed_by`,
		id, on, sqlite.FormatTime(ss.now().UTC()), by.ID)
	if err != nil {
		return fmt.Errorf("enable scale %s: %w", id, err)
	}
	return nil
}

// answerData is a scale.answer event's data, as the kiosk sends it.
type answerData struct {
	Scale string  `json:"scale"`
	Item  int     `json:"item"`
	Score float64 `json:"score"`
	MS    int64   `json:"ms"` // how long the item was on screen
}

// scaleDone is a finished self-check to score.
type scaleDone struct {
	session, device, scale string
	seq                    int64 // of the scale.done event
}

// observeScale handles a committed scale event of a session: an answer
// that meets an alert rule (PHQ-9 item 9 at 1 or more) raises an alert at
// once; a finished self-check is queued for scoring. It never blocks.
func (e *Engine) observeScale(ev waystation.Event) {
	if !strings.HasPrefix(ev.Stream, "s-") {
		return
	}
	dev, _ := strings.CutPrefix(ev.Source, "device:")
	var a answerData
	if json.Unmarshal(ev.Data, &a) != nil || a.Scale == "" {
		return
	}
	switch ev.Kind {
	case "scale.answer":
		sc, ok := e.Scales.set().Get(a.Scale)
		if !ok {
			return
		}
		for _, h := range sc.Raised(a.Item, a.Score) {
			e.alerts.push(pendingAlert{session: ev.Stream, device: dev, kind: "scale.alert",
				data: mustJSON(map[string]any{"scale": a.Scale, "item": a.Item, "score": a.Score, "rule": h.Kind, "en": h.EN, "zh": h.ZH, "seq": ev.Seq})})
		}
	case "scale.done":
		e.scoring.push(scaleDone{session: ev.Stream, device: dev, scale: a.Scale, seq: ev.Seq})
	}
}

// scoreOne scores a finished self-check from the scoring queue.
func (e *Engine) scoreOne(d scaleDone) {
	if err := e.score(context.Background(), d); err != nil {
		e.logger.Error("score self-check", "session", d.session, "scale", d.scale, "err", err)
	}
}

// Scored is what a scored self-check logs as scale.scored: the result, the
// answers item by item, and the flags a counsellor should read it with.
type Scored struct {
	scale.Result
	// TitleEN and TitleZH name the scale as it was when scored, for the
	// report and the e-file when its file has gone since.
	TitleEN string   `json:"title_en"`
	TitleZH string   `json:"title_zh"`
	Device  string   `json:"device"`
	Answers []Answer `json:"answers"`
	Flags   []string `json:"flags"`
	Seconds float64  `json:"seconds"`
}

// Answer is one item's final answer.
type Answer struct {
	Item  int     `json:"item"`
	Score float64 `json:"score"`
	MS    int64   `json:"ms"`
}

// score reads the self-check's answers from the session's log (those the
// device sent since the scale.start that asked for it, the last answer to
// an item counting: a client may go back), scores them and logs
// scale.scored; answers that do not make a whole self-check log
// scale.incomplete with what is missing.
func (e *Engine) score(ctx context.Context, d scaleDone) error {
	sc, ok := e.Scales.set().Get(d.scale)
	if !ok {
		return e.logScale(ctx, d.session, "scale.incomplete", map[string]any{"scale": d.scale, "device": d.device, "reason": "unknown scale"})
	}
	byItem := map[int]Answer{}
	var after int64
	for {
		evs, err := e.log.Read(ctx, d.session, after, 1000)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			after = ev.Seq
			if ev.Seq > d.seq {
				break
			}
			switch {
			case ev.Kind == "command.sent":
				var c struct {
					Device string `json:"device"`
					Name   string `json:"name"`
					Args   struct {
						Scale string `json:"scale"`
					} `json:"args"`
				}
				if json.Unmarshal(ev.Data, &c) == nil && c.Name == "scale.start" && c.Device == d.device && c.Args.Scale == d.scale {
					byItem = map[int]Answer{} // a new run: earlier answers were another time
				}
			case ev.Kind == "scale.answer" && ev.Source == "device:"+d.device:
				var a answerData
				if json.Unmarshal(ev.Data, &a) == nil && a.Scale == d.scale {
					byItem[a.Item] = Answer{Item: a.Item, Score: a.Score, MS: a.MS}
				}
			}
		}
		if len(evs) < 1000 || after >= d.seq {
			break
		}
	}
	answers := make([]float64, len(sc.Items))
	ms := make([]int64, len(sc.Items))
	out := Scored{Device: d.device, Answers: []Answer{}, TitleEN: sc.TitleEN, TitleZH: sc.TitleZH}
	var missing []int
	for i, it := range sc.Items {
		a, ok := byItem[it.ID]
		if !ok {
			missing = append(missing, it.ID)
			continue
		}
		answers[i], ms[i] = a.Score, a.MS
		out.Answers = append(out.Answers, a)
		out.Seconds += float64(a.MS) / 1000
	}
	if len(missing) > 0 {
		return e.logScale(ctx, d.session, "scale.incomplete", map[string]any{"scale": d.scale, "device": d.device, "missing": missing,
			"reason": fmt.Sprintf("%d of %d items unanswered", len(missing), len(sc.Items))})
	}
	r, err := sc.Score(answers)
	if err != nil {
		return e.logScale(ctx, d.session, "scale.incomplete", map[string]any{"scale": d.scale, "device": d.device, "reason": err.Error()})
	}
	out.Result, out.Flags = r, scale.Quality(answers, ms)
	return e.logScale(ctx, d.session, "scale.scored", out)
}

func (e *Engine) logScale(ctx context.Context, session, kind string, data any) error {
	_, err := e.log.Append(ctx, eventlog.Record{Stream: session, Source: "system", Kind: kind, Data: mustJSON(data)})
	return err
}

// ScaleResult is one scored self-check of a client, for the e-file.
type ScaleResult struct {
	Session string    `json:"session"`
	TS      time.Time `json:"ts"`
	Scored
}

// ClientScales returns a client's scored self-checks, oldest first.
func (e *Engine) ClientScales(ctx context.Context, code string) ([]ScaleResult, error) {
	if _, err := e.Clients.GetClient(ctx, code); err != nil {
		return nil, err
	}
	// Of a group session, those of the client's own station.
	rows, err := e.db.R.QueryContext(ctx, `SELECT ev.stream, ev.ts, ev.data FROM events ev JOIN sessions s ON s.id = ev.stream
		WHERE ev.kind = 'scale.scored' AND (s.client_code = ? OR s.client_code = ? AND EXISTS (SELECT 1 FROM session_members m
			WHERE m.session_id = s.id AND m.client_code = ? AND m.device_id = json_extract(ev.data, '$.device')))
		ORDER BY ev.seq`, code, GroupCode, code)
	if err != nil {
		return nil, fmt.Errorf("client scales: %w", err)
	}
	defer rows.Close()
	out := []ScaleResult{}
	for rows.Next() {
		var r ScaleResult
		var data sql.NullString
		if err := rows.Scan(&r.Session, sqlite.ScanTime(&r.TS), &data); err != nil {
			return nil, fmt.Errorf("client scales: %w", err)
		}
		if err := json.Unmarshal([]byte(data.String), &r.Scored); err != nil {
			return nil, fmt.Errorf("client scales: session %s: %w", r.Session, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
