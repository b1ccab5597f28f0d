package serve

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// Aftercare over REST: a plan, contacts and tests for a client, read back
// with the status they give; the site's outcomes; refusals named; a
// technician sees none of it and the refusal is audited.
func TestAftercare(t *testing.T) {
	addr, data := controller(t)
	seed(t, data)
	addAdmin(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"R-1","risk":"medium"}`)
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v1/clients/R-1/contacts", `{"day":"2026-01-05","kind":"phone","outcome":"reached"}`, 409, "no aftercare plan yet"},
		{"POST", "/v1/clients/R-1/aftercare", `{"released":"2025-10-01","schedule":[{"every_days":7,"times":4},{"every_days":30,"times":12}],"kinds":["phone","home_visit"]}`, 201, `"counsellor":"counsellor"`},
		{"POST", "/v1/clients/R-1/aftercare", `{"released":"2025-10-01","schedule":[{"every_days":7,"times":4}],"kinds":["phone"],"counsellor":"tech"}`, 400, `counsellor \"tech\"`},
		{"POST", "/v1/clients/R-1/aftercare", `{"released":"2025-10-01","schedule":[{"every_days":14,"times":26}],"kinds":["phone","face_to_face"]}`, 200, `"every_days":14`},
		{"POST", "/v1/clients/R-9/aftercare", `{"released":"2025-10-01","schedule":[{"every_days":14,"times":2}],"kinds":["phone"]}`, 404, "unknown client"},
		{"POST", "/v1/clients/R-1/contacts", `{"day":"2025-10-15","kind":"phone","outcome":"reached","note":"找到了工作"}`, 201, `"recorded_by":"counsellor"`},
		{"POST", "/v1/clients/R-1/contacts", `{"day":"2025-10-29","kind":"face_to_face","outcome":"not_reached"}`, 201, `"outcome":"not_reached"`},
		{"POST", "/v1/clients/R-1/contacts", `{"day":"2025-10-29","kind":"fax","outcome":"reached"}`, 400, `kind \"fax\"`},
		{"POST", "/v1/clients/R-1/tests", `{"day":"2025-11-20","kind":"urine","panel":["heroin","methamphetamine"],"result":"negative"}`, 201, `"panel":["heroin","methamphetamine"]`},
		{"POST", "/v1/clients/R-1/tests", `{"day":"2026-02-01","kind":"hair","panel":["ketamine"],"result":"positive"}`, 201, `"result":"positive"`},
		{"POST", "/v1/clients/R-1/tests", `{"day":"2026-02-01","kind":"hair","panel":[],"result":"positive"}`, 400, "panel"},
		{"GET", "/v1/outcomes?from=2026-12-01&to=2026-01-01", "", 400, "is after to"},
		{"GET", "/v1/outcomes?from=", "", 400, "from is empty"},
	} {
		status, body := c.do(tc.method, tc.path, tc.body)
		if status != tc.status || !strings.Contains(jsonOf(body), tc.want) {
			t.Errorf("%s %s %s: %d %s, want %d and %s", tc.method, tc.path, tc.body, status, jsonOf(body), tc.status, tc.want)
		}
	}
	_, a := c.do("GET", "/v1/clients/R-1/aftercare", "")
	if a["status"] != "relapsed" || len(a["contacts"].([]any)) != 2 || len(a["tests"].([]any)) != 2 || len(a["due"].([]any)) != 26 {
		t.Errorf("aftercare: %s", jsonOf(a))
	}
	// Released 2025-10-01, every 14 days 26 times: 2025 holds 10-15,
	// 10-29, 11-12, 11-26, 12-10 and 12-24 (6), 2026 the other 20. Reached in 2025: 10-15. A year
	// after release is 2026-10-01, past the period's end: no cohort.
	_, o := c.do("GET", "/v1/outcomes?from=2025-01-01&to=2025-12-31", "")
	if o["followed"] != 1.0 || o["contacts_planned"] != 6.0 || o["contacts_done"] != 1.0 || o["maintained_1y"] != nil || o["relapse_rate"] != 0.0 {
		t.Errorf("outcomes 2025: %s", jsonOf(o))
	}
	_, o = c.do("GET", "/v1/outcomes?from=2026-01-01&to=2026-12-31", "")
	if o["contacts_planned"] != 20.0 || o["relapsed"] != 1.0 || o["relapse_rate"] != 1.0 || o["maintained_1y"] != 0.0 {
		t.Errorf("outcomes 2026: %s", jsonOf(o))
	}
	tech := login(t, addr, "tech", "technician password")
	for _, p := range []string{"/v1/clients/R-1/aftercare", "/v1/outcomes"} {
		if status, _ := tech.do("GET", p, ""); status != 403 {
			t.Errorf("a technician: GET %s: %d", p, status)
		}
	}
	admin := login(t, addr, "boss", "admin password")
	if status, _ := admin.do("GET", "/v1/outcomes", ""); status != 200 {
		t.Errorf("an admin reads the outcomes: %d", status)
	}
	_, audit := admin.do("GET", "/v1/audit?actor=user:tech&outcome=refused", "")
	if !strings.Contains(jsonOf(audit), "/v1/clients/R-1/aftercare") {
		t.Errorf("the technician's refusal is not in the audit log: %s", jsonOf(audit))
	}
}

// jsonOf is a decoded answer as compact JSON, to look for fields in.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The online check-in over HTTP as the page uses it: a counsellor issues
// a code; with no login the page checks it and sends the ratings; the
// counsellor who follows the client up gets a reminder and closes it; a
// code works once; a cross-site post is refused; unknown codes from one
// address are limited (429 with Retry-After) while a good code from
// another still works; the answer is audited without the code; a
// technician can issue nothing and read no reminder.
func TestOnlineCheckin(t *testing.T) {
	addr, data := controller(t)
	seed(t, data)
	addAdmin(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"R-2","risk":"high"}`)
	c.do("POST", "/v1/clients/R-2/aftercare", `{"released":"2026-01-05","schedule":[{"every_days":30,"times":24}],"kinds":["phone","online_checkin"]}`)
	_, rem := c.do("GET", "/v1/reminders", "")
	if rs := rem["reminders"].([]any); len(rs) != 1 || rs[0].(map[string]any)["kind"] != "contact_overdue" || rs[0].(map[string]any)["since"] != "2026-02-04" {
		t.Fatalf("reminders before: %s", jsonOf(rem))
	}
	status, issued := c.do("POST", "/v1/clients/R-2/checkin-codes", `{"hours":24}`)
	code, _ := issued["code"].(string)
	if status != 201 || len(code) != 14 || issued["link"] != "/checkin/#"+code {
		t.Fatalf("issue: %d %s", status, jsonOf(issued))
	}
	page := &client{t: t, base: "http://" + addr, http: &http.Client{}}
	for _, tc := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/v1/checkin/check", `{"code":"` + strings.ToLower(code) + `"}`, 200, `"expires"`},
		{"/v1/checkin", `{"code":"` + code + `","distress":5}`, 400, "give both ratings"},
		{"/v1/checkin", `{"code":"` + code + `","distress":12,"mood":3}`, 400, "0 to 10"},
		{"/v1/checkin", `{"code":"` + code + `","distress":5,"mood":3,"call_me":true}`, 201, `"reminded":true`},
		{"/v1/checkin", `{"code":"` + code + `","distress":5,"mood":3}`, 409, "has been used"},
		{"/v1/checkin/check", `{"code":"` + code + `"}`, 409, "has been used"},
	} {
		status, body := page.do("POST", tc.path, tc.body)
		if status != tc.status || !strings.Contains(jsonOf(body), tc.want) {
			t.Errorf("page %s %s: %d %s, want %d %s", tc.path, tc.body, status, jsonOf(body), tc.status, tc.want)
		}
	}
	// The check-in met the first overdue contact and asked for a call.
	_, rem = c.do("GET", "/v1/reminders", "")
	rs := rem["reminders"].([]any)
	if len(rs) != 2 || rs[0].(map[string]any)["since"] != "2026-03-06" || rs[1].(map[string]any)["kind"] != "call_me" || rs[1].(map[string]any)["client"] != "R-2" {
		t.Fatalf("reminders after: %s", jsonOf(rem))
	}
	_, a := c.do("GET", "/v1/clients/R-2/aftercare", "")
	if ck := a["checkins"].([]any)[0].(map[string]any); ck["distress"] != 5.0 || ck["call_me"] != true || strings.Contains(jsonOf(a), code[:4]+"-"+code[5:9]) {
		t.Errorf("the file's check-ins: %s", jsonOf(a["checkins"]))
	}
	id := rs[1].(map[string]any)["id"].(string)
	if status, body := c.do("POST", "/v1/reminders/"+id, `{"note":"called back"}`); status != 200 {
		t.Errorf("close: %d %s", status, jsonOf(body))
	}
	if status, _ := c.do("POST", "/v1/reminders/"+id, `{}`); status != 409 {
		t.Errorf("closed twice: %d", status)
	}
	if status, _ := c.do("POST", "/v1/reminders/overdue-R-2", `{}`); status != 409 {
		t.Errorf("closing an overdue contact: %d", status)
	}

	// A post from another site's page is refused before the code is looked at.
	_, fresh := c.do("POST", "/v1/clients/R-2/checkin-codes", `{}`)
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/checkin", strings.NewReader(`{"code":"`+fresh["code"].(string)+`","distress":1,"mood":9}`))
	req.Header.Set("Origin", "https://elsewhere.example")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("cross-site check-in: %v %v", resp, err)
	}
	// Ten unknown codes from 127.0.0.1 and it is held back; the limit is per
	// address, so the page from 127.0.0.2 still works.
	for i := range 10 {
		if status, _ := page.do("POST", "/v1/checkin/check", fmt.Sprintf(`{"code":"0000-0000-%04d"}`, i)); status != 404 {
			t.Fatalf("unknown code %d: %d", i, status)
		}
	}
	resp, err := http.Post("http://"+addr+"/v1/checkin/check", "application/json", strings.NewReader(`{"code":"`+fresh["code"].(string)+`"}`))
	if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the eleventh: %v %v", resp, err)
	}
	resp.Body.Close()
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	resp, err = other.Post("http://"+addr+"/v1/checkin", "application/json", strings.NewReader(`{"code":"`+fresh["code"].(string)+`","distress":2,"mood":8}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("from another address: %v %v", resp, err)
	}
	resp.Body.Close()

	admin := login(t, addr, "boss", "admin password")
	_, audit := admin.do("GET", "/v1/audit?actor=user:online-checkin", "")
	es := audit["entries"].([]any)
	if len(es) < 4 || strings.Contains(jsonOf(audit), fresh["code"].(string)) || strings.Contains(jsonOf(audit), code) {
		t.Errorf("the check-ins in the audit log (%d): %s", len(es), jsonOf(audit))
	}
	tech := login(t, addr, "tech", "technician password")
	for _, p := range []string{"POST /v1/clients/R-2/checkin-codes", "GET /v1/reminders", "POST /v1/reminders/" + id} {
		method, path, _ := strings.Cut(p, " ")
		if status, _ := tech.do(method, path, `{}`); status != 403 {
			t.Errorf("a technician: %s: %d", p, status)
		}
	}
}

// Every read of a client's records or a session's content is audited,
// including the routes that used to be missed (the e-file, consents,
// scales, aftercare, reports, drawings, the tray); polled routes that show
// none are not.
func TestReadsAudited(t *testing.T) {
	addr, data := controller(t)
	seed(t, data)
	addAdmin(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"R-3","risk":"low"}`)
	admin := login(t, addr, "boss", "admin password")
	for _, tc := range []struct {
		path    string
		audited bool
	}{
		{"/v1/clients/R-3/file", true},
		{"/v1/clients/R-3/consents", true},
		{"/v1/clients/R-3/scales", true},
		{"/v1/clients/R-3/aftercare", true},
		{"/v1/sessions/s-none/report", true},
		{"/v1/sessions/s-none/report.pdf", true},
		{"/v1/sessions/s-none/drawings", true},
		{"/v1/sessions/s-none/sandtray", true},
		{"/v1/reminders", false},
		{"/v1/outcomes", false},
		{"/v1/rooms", false},
		{"/v1/content?kind=scene", false},
	} {
		c.do("GET", tc.path, "")
		p, _, _ := strings.Cut(tc.path, "?")
		_, audit := admin.do("GET", "/v1/audit?actor=user:counsellor&action=GET*", "")
		found := strings.Contains(jsonOf(audit), `"path":"`+p+`"`)
		if found != tc.audited {
			t.Errorf("GET %s audited: %v, want %v", tc.path, found, tc.audited)
		}
	}
}
