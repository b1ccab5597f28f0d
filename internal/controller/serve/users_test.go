package serve

import (
	"strings"
	"testing"
)

// Admins manage accounts over REST as the CLI does: list (no password or
// hash), add, set a password, disable; others are refused, and an admin
// cannot disable their own account.
func TestAccountsOverREST(t *testing.T) {
	addr, data := controller(t)
	seed(t, data)
	addAdmin(t, data)
	admin := login(t, addr, "boss", "admin password")
	counsellor := login(t, addr, "counsellor", "counsellor password")

	if status, _ := counsellor.do("GET", "/v1/users", ""); status != 403 {
		t.Errorf("a counsellor lists accounts: %d", status)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v1/users", `{"name":"ana","role":"counsellor","password":"short"}`, 400, "password"},
		{"POST", "/v1/users", `{"name":"ana","role":"wizard","password":"a long password"}`, 400, `unknown role "wizard"`},
		{"POST", "/v1/users", `{"name":"ana","role":"counsellor","password":"a long password"}`, 201, ""},
		{"POST", "/v1/users", `{"name":"ana","role":"counsellor","password":"a long password"}`, 409, ""},
		{"PATCH", "/v1/users/ana", `{}`, 400, `give "password" or "disabled"`},
		{"PATCH", "/v1/users/nobody", `{"disabled":true}`, 404, `unknown user "nobody"`},
		{"PATCH", "/v1/users/boss", `{"disabled":true}`, 409, "cannot disable your own account"},
		{"PATCH", "/v1/users/ana", `{"password":"another long one"}`, 200, ""},
	} {
		status, m := admin.do(tc.method, tc.path, tc.body)
		_, msg := errorOf(m)
		if status != tc.status || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s %s: %d %q, want %d %q", tc.method, tc.path, tc.body, status, msg, tc.status, tc.want)
		}
	}
	ana := login(t, addr, "ana", "another long one")
	if status, _ := admin.do("PATCH", "/v1/users/ana", `{"disabled":true}`); status != 200 {
		t.Fatalf("disable ana: %d", status)
	}
	if status, _ := ana.do("GET", "/v1/me", ""); status != 401 {
		t.Errorf("a disabled account's login still works: %d", status)
	}
	status, list := admin.do("GET", "/v1/users", "")
	users, _ := list["users"].([]any)
	if status != 200 || len(users) != 4 {
		t.Fatalf("list: %d %v", status, list)
	}
	for _, u := range users {
		m := u.(map[string]any)
		for k := range m {
			if strings.Contains(strings.ToLower(k), "pass") || strings.Contains(strings.ToLower(k), "hash") {
				t.Errorf("the list shows %s", k)
			}
		}
		if m["name"] == "ana" && m["disabled"] != true {
			t.Errorf("ana: %v", m)
		}
	}
}
