package xdf

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/sessions/hrv"
	"waystation/sessions/records"
)

// MarkerKinds are the session events that become markers: the session's
// course, what the stations were told to do (scene, breathing pace, VR
// program and level), ratings and self-check results, calls for help and
// alerts. Notes, sandtray and drawing events are the client's own content
// and stay out.
var MarkerKinds = map[string]bool{
	"session.planned": true, "session.started": true, "session.paused": true, "session.resumed": true, "session.ended": true,
	"session.interrupted": true, "plan.step": true, "command.sent": true,
	"checkin.rating": true, "checkout.rating": true, "rating.answer": true, "scale.scored": true,
	"help.requested": true, "alert.raised": true,
}

// HRStale is how long a heart rate stands for: a second of the 1 Hz stream
// with no beat or reading in the HRStale seconds before it is left out.
const HRStale = 5 * time.Second

// CoherenceEvery is the coherence stream's step.
const CoherenceEvery = 5 * time.Second

type reading struct {
	t     time.Time
	value float64
}

func secs(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Session makes a session's streams: per station that gave them, its RR
// intervals (irregular, ms), its heart rate at 1 Hz (from the RR intervals
// that pass the artifact gate, else from its heart-rate readings) and its
// coherence every 5 s (package hrv, once 64 s of beats are in); and the
// session's markers. Times are the controller's clock in Unix seconds. A
// stream with no samples is left out.
func Session(ctx context.Context, db *sqlite.DB, id string) ([]Stream, error) {
	s, _, err := records.SessionOf(ctx, db, id, "")
	if err != nil {
		return nil, err
	}
	rows, err := db.R.QueryContext(ctx, `SELECT t.device_id, COALESCE(d.name, t.device_id), t.ts, t.name, t.value FROM telemetry t
		LEFT JOIN devices d ON d.id = t.device_id WHERE t.stream = ? AND t.name IN ('rr_interval', 'heart_rate') ORDER BY t.ts`, id)
	if err != nil {
		return nil, fmt.Errorf("xdf: readings of %s: %w", id, err)
	}
	type station struct {
		name   string
		rr, hr []reading
	}
	stations := map[string]*station{}
	var order []string
	for rows.Next() {
		var dev, name, kind string
		var r reading
		if err := rows.Scan(&dev, &name, sqlite.ScanTime(&r.t), &kind, &r.value); err != nil {
			rows.Close()
			return nil, fmt.Errorf("xdf: readings of %s: %w", id, err)
		}
		st := stations[dev]
		if st == nil {
			st = &station{name: name}
			stations[dev] = st
			order = append(order, dev)
		}
		if kind == "rr_interval" {
			st.rr = append(st.rr, r)
		} else {
			st.hr = append(st.hr, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Strings(order)
	var out []Stream
	for _, dev := range order {
		st := stations[dev]
		rr := Stream{Name: "RR " + st.name, Type: "RR", Format: "double64", Unit: "ms", Label: "RR"}
		for _, r := range st.rr {
			rr.Times, rr.Values = append(rr.Times, secs(r.t)), append(rr.Values, r.value)
		}
		out = append(out, rr, heartRate(st.name, st.rr, st.hr), coherence(st.name, st.rr))
	}
	markers := Stream{Name: "Markers", Type: "Markers", Format: "string"}
	for _, ev := range s.Events {
		if !MarkerKinds[ev.Kind] {
			continue
		}
		text := ev.Kind
		if len(ev.Data) > 0 && string(ev.Data) != "null" && string(ev.Data) != "{}" {
			text += " " + markerData(ev.Kind, ev.Data)
		}
		markers.Times, markers.Strings = append(markers.Times, secs(ev.TS)), append(markers.Strings, text)
	}
	out = append(out, markers)
	kept := out[:0]
	for _, st := range out {
		if st.len() > 0 {
			kept = append(kept, st)
		}
	}
	return kept, nil
}

// markerData is an event's data as the marker shows it: compact JSON, a
// self-check reduced to its scale, total and band (the answers stay out).
func markerData(kind string, data json.RawMessage) string {
	if kind == "scale.scored" {
		var sc struct {
			Scale string  `json:"scale"`
			Total float64 `json:"total"`
			Band  string  `json:"band"`
		}
		json.Unmarshal(data, &sc)
		b, _ := json.Marshal(sc)
		return string(b)
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return string(data)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// heartRate is the 1 Hz heart rate: at each whole second, 60000 / the last
// accepted RR interval (else the last heart-rate reading) within HRStale.
func heartRate(name string, rr, hr []reading) Stream {
	s := Stream{Name: "Heart rate " + name, Type: "HeartRate", Rate: 1, Format: "float32", Unit: "bpm", Label: "HR"}
	src := hr
	if len(rr) > 0 {
		values := make([]float64, len(rr))
		for i, r := range rr {
			values[i] = r.value
		}
		_, acc, _ := hrv.Gate([][]float64{values})
		src = nil
		for i, r := range rr {
			if acc[0][i] {
				src = append(src, reading{r.t, 60000 / r.value})
			}
		}
	}
	if len(src) == 0 {
		return s
	}
	j := 0
	start := src[0].t.Truncate(time.Second) // the first whole second at or after the first reading
	if start.Before(src[0].t) {
		start = start.Add(time.Second)
	}
	for t := start; !t.After(src[len(src)-1].t.Add(time.Second)); t = t.Add(time.Second) {
		for j+1 < len(src) && !src[j+1].t.After(t) {
			j++
		}
		if src[j].t.After(t) || t.Sub(src[j].t) > HRStale {
			continue
		}
		s.Times, s.Values = append(s.Times, secs(t)), append(s.Values, math.Round(src[j].value*10)/10)
	}
	return s
}

// coherence is the coherence ratio every CoherenceEvery over the RR
// intervals received in the hrv.CoherenceWindow before.
func coherence(name string, rr []reading) Stream {
	s := Stream{Name: "Coherence " + name, Type: "Coherence", Rate: 1 / CoherenceEvery.Seconds(), Format: "float32", Unit: "ratio", Label: "coherence"}
	if len(rr) == 0 {
		return s
	}
	window := time.Duration(hrv.CoherenceWindow * float64(time.Second))
	values := make([]float64, len(rr))
	for i, r := range rr {
		values[i] = r.value
	}
	// The window (t-window, t] slides over the readings, which are in time
	// order: lo and hi only move forward.
	lo, hi := 0, 0
	for t := rr[0].t.Add(window); !t.After(rr[len(rr)-1].t); t = t.Add(CoherenceEvery) {
		for hi < len(rr) && !rr[hi].t.After(t) {
			hi++
		}
		for lo < hi && !rr[lo].t.After(t.Add(-window)) {
			lo++
		}
		if ratio, _, ok := hrv.Coherence(values[lo:hi]); ok && !math.IsInf(ratio, 0) {
			s.Times, s.Values = append(s.Times, secs(t)), append(s.Values, ratio)
		}
	}
	return s
}
