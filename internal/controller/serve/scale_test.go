package serve

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waystation/devices/devicetest"
	"waystation/devices/devsim"
)

// A self-check given from the console: the kiosk gets the form, its
// client answers PHQ-9 item by item; item 9 answered 2 reaches the
// counsellor's console as an alert at once (before the self-check ends),
// and the finished self-check is scored on the controller (total 10,
// moderate, flagged too fast) and is in the client's e-file. A licensed
// scale is refused until an admin enables it.
// pdfText is a PDF's text, by Debian's pdftotext (make test installs
// poppler-utils for the browser test).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

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
	addAdmin(t, data)

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

	// The session's report has the result, in the session's language.
	resp, err := c.http.Get(c.base + "/v1/sessions/" + id + "/report.pdf")
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if txt := pdfText(t, pdf); !strings.Contains(txt, "自评量表") || !strings.Contains(txt, "患者健康问卷（PHQ-9）: 总分 10 · 中度 · 作答过快 · 有死亡或自伤的念头") ||
		!strings.Contains(txt, "9:2") {
		t.Errorf("the report's self-checks:\n%s", txt)
	}

	// A self-check as a plan step: given when the session starts at it.
	c.do("POST", "/v1/sessions/"+id+"/end", "")
	plan := func(scale string) (int, map[string]any) {
		return c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-31","stations":["`+kioskID+`"],"plan":{"steps":[{"kind":"scale","scale":"`+scale+`"}]}}`)
	}
	if status, body := plan("example-index"); status != 409 || !strings.Contains(fmt.Sprint(body), "plan step 1 (scale): scale example-index is used under licence") {
		t.Errorf("a plan with a licensed scale not enabled: %d %v", status, body)
	}
	_, s2 := plan("gad-7")
	id2 := s2["id"].(string)
	c.do("POST", "/v1/sessions/"+id2+"/start", "")
	devicetest.Wait(t, "GAD-7 scored in the planned session", func() bool {
		_, page := c.do("GET", "/v1/sessions/"+id2+"/events?after=0&limit=200", "")
		return strings.Contains(fmt.Sprint(page["events"]), "kind:scale.scored")
	})

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
	if status, body := c.do("POST", "/v1/sessions/"+id2+"/commands", `{"device":"`+kioskID+`","name":"scale.start","args":{"scale":"example-index"}}`); status != 202 {
		t.Errorf("the licensed scale once enabled: %d %v", status, body)
	}
}
