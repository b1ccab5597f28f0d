package jsonerr

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestMessage(t *testing.T) {
	type frame struct {
		After int64             `json:"after"`
		Topic string            `json:"topic"`
		OK    bool              `json:"ok"`
		Args  map[string]string `json:"args"`
		List  []int             `json:"list"`
		TS    time.Time         `json:"ts"`
	}
	for _, tc := range []struct{ in, want string }{
		{`{"after":"7"}`, "field after: want a whole number, got string"},
		{`{"topic":3}`, "field topic: want text, got number"},
		{`{"ok":"yes"}`, "field ok: want true or false, got string"},
		{`{"args":[1]}`, "field args: want an object, got array"},
		{`{"list":{}}`, "field list: want a list, got object"},
		{`{"ts":"yesterday"}`, `want an RFC 3339 time such as 2026-11-24T08:30:00.5Z, got "yesterday"`},
		{`[1]`, "want a JSON object, got array"},
		{`{"after":`, "empty or truncated JSON"},
		{`{"after" 1}`, "malformed JSON at byte 10"},
		{`{"nope":1}`, `unknown field "nope"`},
	} {
		var f frame
		dec := json.NewDecoder(strings.NewReader(tc.in))
		dec.DisallowUnknownFields()
		got := Message(dec.Decode(&f))
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "Go struct") || strings.Contains(got, "int64") || strings.Contains(got, "unmarshal") {
			t.Errorf("%s: %q speaks Go", tc.in, got)
		}
	}
}
