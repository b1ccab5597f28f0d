package sessions

import (
	"context"
	"fmt"
	"sync"
	"time"

	"waystation/sessions/eventlog"
)

// Series is one device's readings of one kind, downsampled.
type Series struct {
	Device string       `json:"device"`
	Name   string       `json:"name"`
	Points [][2]float64 `json:"points"` // [unix seconds, mean value] per bucket
}

// Telemetry returns a session's readings averaged over buckets of step
// seconds, optionally only one reading name.
func (e *Engine) Telemetry(ctx context.Context, id, name string, step int) ([]Series, error) {
	if _, err := e.Get(ctx, id); err != nil {
		return nil, err
	}
	if step < 1 {
		step = 5
	}
	q := `SELECT device_id, name, CAST(strftime('%s', substr(ts, 1, 19)) AS INTEGER) / ? * ? AS bucket, AVG(value)
		FROM telemetry WHERE stream = ?`
	args := []any{step, step, id}
	if name != "" {
		q += ` AND name = ?`
		args = append(args, name)
	}
	q += ` GROUP BY device_id, name, bucket ORDER BY device_id, name, bucket LIMIT 100000`
	rows, err := e.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("telemetry of %s: %w", id, err)
	}
	defer rows.Close()
	out := []Series{}
	for rows.Next() {
		var dev, n string
		var bucket int64
		var v float64
		if err := rows.Scan(&dev, &n, &bucket, &v); err != nil {
			return nil, fmt.Errorf("telemetry of %s: %w", id, err)
		}
		if len(out) == 0 || out[len(out)-1].Device != dev || out[len(out)-1].Name != n {
			out = append(out, Series{Device: dev, Name: n})
		}
		last := &out[len(out)-1]
		last.Points = append(last.Points, [2]float64{float64(bucket), v})
	}
	return out, rows.Err()
}

// Throttle passes at most one set of readings per device and stream per
// interval to the live view; the store keeps every reading regardless.
type Throttle struct {
	Interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
}

// Allow reports whether readings of device into stream may go out now.
func (t *Throttle) Allow(stream, device string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	key := stream + "/" + device
	if now.Sub(t.last[key]) < t.Interval {
		return false
	}
	t.last[key] = now
	if len(t.last) > 10000 { // forget old keys rather than grow without bound
		for k, v := range t.last {
			if now.Sub(v) > time.Minute {
				delete(t.last, k)
			}
		}
	}
	return true
}

// LiveReadings turns readings into the values map a live frame carries.
func LiveReadings(readings []eventlog.Reading) map[string]float64 {
	m := make(map[string]float64, len(readings))
	for _, r := range readings {
		m[r.Name] = r.Value
	}
	return m
}
