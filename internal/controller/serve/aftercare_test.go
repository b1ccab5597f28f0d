package serve

import (
	"encoding/json"
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
