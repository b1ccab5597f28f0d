package serve

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waystation/devices/devicetest"
	"waystation/devices/devsim"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
)

// A self-check given from the console: the kiosk gets the form, its
// client answers PHQ-9 item by item; item 9 answered 2 reaches the
// counsellor's console as an alert at once (before the self-check ends),
// and the finished self-check is scored on the controller (total 10,
// moderate, flagged too fast) and is in the client's e-file. A licensed
// scale is refused until an admin enables it.
func TestSelfCheckFromConsole(t *testing.T) {
	scales := t.TempDir()
	for _, f := range []string{"../../../content/scales/phq-9.yaml", "../../../content/scales/gad-7.yaml", "../../../sessions/scale/testdata/good/example-index.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(scales, filepath.Base(f)), b, 0o644)
	}
	addr, data := controllerWith(t, func(c *Config) { c.ScalesDir = scales })
	kioskID, token := seed(t, data)
	db, _ := sqlite.Open(context.Background(), data)
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	accounts.Add(context.Background(), "boss", auth.Admin, "admin password")
	db.Close()

	simulateKiosk(t, addr, token, &devsim.Script{AnswerMS: 50, ScaleAnswers: map[string][]float64{"phq-9": {1, 1, 1, 1, 1, 1, 1, 1, 2}}})

	c := login(t, addr, "counsellor", "counsellor password")
	devicetest.Wait(t, "the kiosk online", func() bool { _, d := c.do("GET", "/v1/devices/"+kioskID, ""); return d["status"] == "online" })
	_, list := c.do("GET", "/v1/content?kind=scale", "")
	items := fmt.Sprint(list["items"])
	for _, want := range []string{"id:phq-9", "items:9", "title_zh:患者健康问卷（PHQ-9）", "id:example-index", "licensed:true", "enabled:false"} {
		if !strings.Contains(items, want) {
			t.Errorf("GET /v1/content?kind=scale: no %s in %s", want, items)
		}
	}
	c.do("POST", "/v1/clients", `{"code":"C-31","risk":"medium"}`)
	c.do("POST", "/v1/clients/C-31/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-31","stations":["`+kioskID+`"]}`)
	id := s["id"].(string)
	c.do("POST", "/v1/sessions/"+id+"/start", "")

	send, next := consoleWS(t, addr, c)
	send(`{"type":"subscribe","topic":"alerts"}`)
	send(`{"type":"subscribe","topic":"session/` + id + `"}`)
	command := func(args string) (int, map[string]any) {
		return c.do("POST", "/v1/sessions/"+id+"/commands", `{"device":"`+kioskID+`","name":"scale.start","args":`+args+`}`)
	}
	if status, body := command(`{"scale":"bdi"}`); status != 404 || !strings.Contains(fmt.Sprint(body), `no scale "bdi" (scales: example-index, gad-7, phq-9)`) {
		t.Errorf("an unknown scale: %d %v", status, body)
	}
	if status, body := command(`{"scale":"example-index"}`); status != 409 || !strings.Contains(fmt.Sprint(body), "used under licence and is off at this site") {
		t.Errorf("a licensed scale not enabled: %d %v", status, body)
	}
	if status, body := command(`{"scale":"phq-9"}`); status != 202 {
		t.Fatalf("scale.start: %d %v", status, body)
	}
	// The alert is raised by the item-9 answer itself, not by the scoring
	// at the end: it names that answer's seq.
	var alert, scored map[string]any
	var answer9 float64
	var answered time.Time
	for alert == nil || scored == nil {
		m := next()
		switch {
		case m["type"] == "alert":
			alert = m["alert"].(map[string]any)
		case m["type"] == "event" && m["kind"] == "scale.answer" && m["data"].(map[string]any)["item"] == 9.0:
			answer9 = m["seq"].(float64)
			answered, _ = time.Parse(time.RFC3339Nano, m["ts"].(string))
		case m["type"] == "event" && m["kind"] == "scale.scored":
			scored = m["data"].(map[string]any)
		}
	}
	adata, _ := alert["data"].(map[string]any)
	if alert["kind"] != "scale.alert" || alert["session"] != id || adata["item"] != 9.0 || adata["rule"] != "self_harm" || adata["zh"] == "" || adata["seq"] != answer9 {
		t.Errorf("alert %v; want one for item 9's answer, seq %v", alert, answer9)
	}
	if raised, err := time.Parse(time.RFC3339Nano, alert["raised"].(string)); err == nil {
		t.Logf("item 9 stored %s, its alert raised %v later", answered.Format(time.StampMicro), raised.Sub(answered))
	}
	if scored["total"] != 10.0 || scored["band"] != "moderate" || len(scored["answers"].([]any)) != 9 ||
		fmt.Sprint(scored["flags"]) != "[too_fast]" || len(scored["alerts"].([]any)) != 1 || scored["device"] != kioskID {
		t.Errorf("scale.scored %v", scored)
	}
	_, file := c.do("GET", "/v1/clients/C-31/scales", "")
	if res, _ := file["results"].([]any); len(res) != 1 || res[0].(map[string]any)["session"] != id || res[0].(map[string]any)["total"] != 10.0 {
		t.Errorf("the e-file's self-checks: %v", file)
	}

	admin := login(t, addr, "boss", "admin password")
	if status, _ := c.do("PUT", "/v1/scales/example-index", `{"enabled":true}`); status != 403 {
		t.Errorf("a counsellor enabling a scale: %d", status)
	}
	if status, body := admin.do("PUT", "/v1/scales/phq-9", `{"enabled":false}`); status != 409 {
		t.Errorf("switching off a free scale: %d %v", status, body)
	}
	if status, body := admin.do("PUT", "/v1/scales/example-index", `{"enabled":true}`); status != 200 || body["enabled"] != true {
		t.Fatalf("enable: %d %v", status, body)
	}
	if status, body := command(`{"scale":"example-index"}`); status != 202 {
		t.Errorf("the licensed scale once enabled: %d %v", status, body)
	}
}
