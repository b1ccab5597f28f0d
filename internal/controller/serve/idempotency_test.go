package serve

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// A double tap on "Create session", "Record consent" or "Add note" sends
// the same write twice with one Idempotency-Key: it happens once, and both
// taps get the same answer.
func TestDoubleTapsHappenOnce(t *testing.T) {
	addr, data := controller(t)
	kioskID, _ := seed(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	twice := func(path, key, body string) []map[string]any {
		t.Helper()
		var wg sync.WaitGroup
		out := make([]map[string]any, 2)
		for i := range out {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", key)
				resp, err := c.http.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				json.NewDecoder(resp.Body).Decode(&out[i])
				if resp.StatusCode >= 300 {
					t.Errorf("%s: %d %v", path, resp.StatusCode, out[i])
				}
			})
		}
		wg.Wait()
		return out
	}
	c.do("POST", "/v1/clients", `{"code":"C-42","risk":"low"}`)
	s := twice("/v1/sessions", "create-1", `{"room":"Relaxation room","client":"C-42","stations":["`+kioskID+`"]}`)
	if s[0]["id"] == nil || s[0]["id"] != s[1]["id"] {
		t.Fatalf("two taps on create: sessions %v and %v", s[0]["id"], s[1]["id"])
	}
	_, list := c.do("GET", "/v1/sessions?state=planned", "")
	if n := len(list["sessions"].([]any)); n != 1 {
		t.Errorf("%d planned sessions after a double tap, want 1", n)
	}
	twice("/v1/clients/C-42/consents", "consent-1", `{"scopes":["kiosk"],"by":"client"}`)
	_, file := c.do("GET", "/v1/clients/C-42/consents", "")
	consents, _ := file["consents"].([]any)
	if len(consents) != 1 {
		t.Errorf("%d consents after a double tap, want 1: %v", len(consents), file["consents"])
	}
	id := s[0]["id"].(string)
	c.do("POST", "/v1/sessions/"+id+"/start", "")
	twice("/v1/sessions/"+id+"/notes", "note-1", `{"text":"calmer now"}`)
	_, evs := c.do("GET", "/v1/sessions/"+id+"/events", "")
	notes := 0
	for _, ev := range evs["events"].([]any) {
		if ev.(map[string]any)["kind"] == "note.added" {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d notes after a double tap, want 1", notes)
	}
}
