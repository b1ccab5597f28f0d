package serve

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"waystation/devices/devicetest"
	"waystation/devices/devsim"
	"waystation/internal/platform/sqlite"
)

// A staff self-care session needs no client code and no consent, and at
// its end keeps nothing but counts: the session held and its self-check's
// band, by day and room. Its events, notes and answers are deleted, and so
// is what the kiosk logs after the end.
func TestStaffSessionKeepsOnlyCounts(t *testing.T) {
	addr, data := controllerWith(t, func(c *Config) { c.ScalesDir = "../../../content/scales" })
	kioskID, token := seed(t, data)
	simulateKiosk(t, addr, token, &devsim.Script{AnswerMS: 20, ScaleAnswers: map[string][]float64{"phq-9": {1, 1, 1, 1, 1, 1, 1, 1, 0}}})
	c := login(t, addr, "counsellor", "counsellor password")
	devicetest.Wait(t, "the kiosk online", func() bool { _, d := c.do("GET", "/v1/devices/"+kioskID, ""); return d["status"] == "online" })
	stations := `"room":"Relaxation room","stations":["` + kioskID + `"]`
	for _, tc := range []struct{ body, err string }{
		{`{` + stations + `,"staff":true,"client":"C-1"}`, "a staff session has no client code"},
		{`{` + stations + `,"client":"STAFF"}`, "client code STAFF is kept for staff sessions"},
		{`{"room":"Relaxation room","stations":[],"staff":true}`, "a session needs 1 to 16 stations"},
	} {
		if status, body := c.do("POST", "/v1/sessions", tc.body); status != 400 || !strings.Contains(fmt.Sprint(body), tc.err) {
			t.Errorf("%s: %d %v", tc.body, status, body)
		}
	}
	// A refused staff session stores nothing, not even the staff
	// pseudo-client (the API's contract test found it did).
	if n := countRows(t, data, `SELECT count(*) FROM clients WHERE code = 'STAFF'`); n != 0 {
		t.Errorf("after refused staff sessions: %d STAFF clients stored", n)
	}
	if status, _ := c.do("POST", "/v1/clients", `{"code":"STAFF","risk":"low"}`); status != 400 {
		t.Errorf("registering STAFF as a client: %d", status)
	}
	status, s := c.do("POST", "/v1/sessions", `{`+stations+`,"staff":true,"plan":{"steps":[{"kind":"scale","scale":"phq-9"}]}}`)
	if status != 201 {
		t.Fatalf("staff session: %d %v", status, s)
	}
	id := s["id"].(string)
	if status, body := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 {
		t.Fatalf("a staff session starts without consent: %d %v", status, body)
	}
	events := func() string {
		_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=0&limit=200", "")
		return fmt.Sprint(page["events"])
	}
	devicetest.Wait(t, "the self-check scored", func() bool { return strings.Contains(events(), "kind:scale.scored") })
	c.do("POST", "/v1/sessions/"+id+"/notes", `{"text":"talked about the night shift"}`)
	if status, body := c.do("POST", "/v1/sessions/"+id+"/end", ""); status != 200 {
		t.Fatalf("end: %d %v", status, body)
	}
	devicetest.Wait(t, "everything the staff session logged deleted", func() bool { return events() == "[]" })
	_, got := c.do("GET", "/v1/sessions/"+id, "")
	if got["state"] != "ended" || got["client"] != "STAFF" {
		t.Errorf("the staff session's row: %v", got)
	}
	_, counts := c.do("GET", "/v1/staff/counts", "")
	list := fmt.Sprint(counts["counts"])
	for _, want := range []string{"n:1 room:Relaxation room]", "band:mild", "scale:phq-9"} {
		if !strings.Contains(list, want) {
			t.Errorf("staff counts: no %s in %s", want, list)
		}
	}
	if strings.Contains(list, "night shift") || len(counts["counts"].([]any)) != 2 {
		t.Errorf("staff counts hold more than counts: %s", list)
	}
	_, clients := c.do("GET", "/v1/clients", "")
	if strings.Contains(fmt.Sprint(clients), "STAFF") {
		t.Errorf("STAFF listed as a client: %v", clients)
	}
	tech := login(t, addr, "tech", "technician password")
	if status, _ := tech.do("GET", "/v1/staff/counts", ""); status != 403 {
		t.Errorf("a technician reading staff counts: %d", status)
	}
	if status, body := c.do("GET", "/v1/staff/counts?from=yesterday", ""); status != 400 || !strings.Contains(fmt.Sprint(body), `"yesterday" is not a day`) {
		t.Errorf("a bad day: %d %v", status, body)
	}
}

// GET /v1/openapi.json is public (it holds no data) and is the document.
func TestOpenAPIServed(t *testing.T) {
	addr, _ := controller(t)
	anon := &client{t: t, base: "http://" + addr, http: http.DefaultClient}
	status, doc := anon.do("GET", "/v1/openapi.json", "")
	if status != 200 || doc["openapi"] != "3.1.0" || doc["paths"].(map[string]any)["/v1/staff/counts"] == nil {
		t.Errorf("GET /v1/openapi.json: %d %v", status, doc["info"])
	}
}

// countRows runs a count query on the data folder's store beside the
// running controller.
func countRows(t *testing.T, data, query string) int {
	t.Helper()
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.R.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
