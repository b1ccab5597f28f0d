package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"waystation/devices/registry"
	"waystation/internal/controller/api"
	"waystation/internal/controller/serve"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/testkit/servetest"
	"waystation/sessions"
)

// The document is read and checked by kin-openapi (github.com/getkin/
// kin-openapi), not by anything written here: it loads the OpenAPI 3.1
// document, finds the operation of a request and validates requests and
// responses against their schemas (JSON Schema 2020-12 for 3.1).

// roles are who the contract test calls as: logged out, then each role.
var roles = []string{"", "counsellor", "technician", "admin"}

// Tables a refused request may still write to, and why: the audit log
// records refusals on purpose, logins are the test's own, devices report
// their status and telemetry on their own, and the pairing limiter counts
// failed pairing codes to slow guessing.
var writtenOnRefusal = []string{"audit", "logins", "device_status", "telemetry", "pairing_failures", "device_dedupe"}

// site is a controller with an account per role and a few records, and
// what the generator needs to reach them.
type site struct {
	base   string
	doc    *openapi3.T
	router routers.Router
	db     *sql.DB
	as     map[string]*http.Client
	fixed  map[string][]string
	tables []string
	// pw are the accounts' passwords, to log in again.
	pw map[string]string
	// made counts the sets of fixtures made.
	made int
	// countAll is the query counts runs, made once.
	countAll string
}

// ops are the document's operations in a fixed order.
type op struct {
	method, path string
	o            *openapi3.Operation
}

func (s *site) ops() []op {
	var out []op
	for _, p := range s.doc.Paths.InMatchingOrder() {
		for m, o := range s.doc.Paths.Value(p).Operations() {
			out = append(out, op{m, p, o})
		}
	}
	// By operationId, but logging in last: failed logins pause logging
	// in, which the logout probes need.
	key := func(o op) string {
		if o.o.OperationID == "postLogin" {
			return "~"
		}
		return o.o.OperationID
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

func newSite(t testing.TB) *site {
	t.Helper()
	data := t.TempDir()
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	s := &site{as: map[string]*http.Client{}, pw: map[string]string{}, fixed: map[string][]string{}}
	for _, r := range roles[1:] {
		s.pw[r] = r + " password"
		if _, err := accounts.Add(context.Background(), "fz-"+r, auth.Role(r), s.pw[r]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := registry.New(db).AddRoom(context.Background(), "Relaxation room"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	addr := servetest.FreeAddr(t)
	stop := servetest.StartConfig(t, serve.Config{Addr: addr, DataDir: data, ProfilesDir: "../../../firmware-profiles", ScalesDir: "../../../content/scales", PasswordCost: 4})
	t.Cleanup(stop)
	s.base = "http://" + addr

	b, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	if s.doc, err = loader.LoadFromData(b); err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	if err := s.doc.Validate(context.Background()); err != nil {
		t.Fatalf("kin-openapi finds the document invalid: %v", err)
	}
	s.doc.Servers = openapi3.Servers{{URL: s.base}}
	if s.router, err = gorillamux.NewRouter(s.doc); err != nil {
		t.Fatal(err)
	}
	ro, err := sql.Open("sqlite", "file:"+filepath.Join(data, "waystation.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	s.db = ro
	rows, err := ro.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		if !slices.Contains(writtenOnRefusal, n) {
			s.tables = append(s.tables, n)
		}
	}
	rows.Close()

	s.as[""] = &http.Client{}
	for _, r := range roles[1:] {
		s.login(t, r)
	}
	s.fixtures(t)
	return s
}

func (s *site) login(t testing.TB, role string) {
	t.Helper()
	if s.as[role] = s.fresh(t, role); s.as[role] == s.as[""] {
		t.Fatalf("cannot log in as %s", role)
	}
}

// fresh logs in as role with a new cookie jar; when the controller
// refuses (it pauses logins after many failures) it returns the
// logged-out client.
func (s *site) fresh(t testing.TB, role string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Post(s.base+"/v1/login", "application/json", strings.NewReader(`{"username":"fz-`+role+`","password":"`+s.pw[role]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return s.as[""]
	}
	return c
}

// call sends one request as role and answers status and decoded body.
func (s *site) call(t testing.TB, role, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.as[role].Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// fixtures makes records for the generator to find, new ones each time
// (the probes delete and change what they find): a device, a client with
// consent, a session, a follow-up, a user.
func (s *site) fixtures(t testing.TB) {
	t.Helper()
	must := func(want int) func(int, map[string]any) map[string]any {
		return func(status int, m map[string]any) map[string]any {
			t.Helper()
			if status != want {
				t.Fatalf("fixture: %d %v", status, m)
			}
			return m
		}
	}
	s.made++
	code, victim := fmt.Sprintf("FZ-%d", s.made), fmt.Sprintf("fz-victim-%d", s.made)
	dev := must(201)(s.call(t, "admin", "POST", "/v1/devices", map[string]any{"profile": "kiosk-ws-1", "name": "Kiosk " + code, "room": "Relaxation room"}))
	must(201)(s.call(t, "counsellor", "POST", "/v1/clients", map[string]any{"code": code, "risk": "low"}))
	cons := must(201)(s.call(t, "counsellor", "POST", "/v1/clients/"+code+"/consents", map[string]any{"scopes": sessions.Scopes, "by": "client"}))
	devID := dev["device"].(map[string]any)["id"].(string)
	ses := must(201)(s.call(t, "counsellor", "POST", "/v1/sessions", map[string]any{"room": "Relaxation room", "client": code, "stations": []string{devID}}))
	fu := must(201)(s.call(t, "counsellor", "POST", "/v1/clients/"+code+"/followups", map[string]any{"due": "2027-01-05", "what": "call"}))
	must(201)(s.call(t, "admin", "POST", "/v1/users", map[string]any{"name": victim, "role": "counsellor", "password": "victim password"}))
	s.fixed = map[string][]string{
		"code": {code}, "client": {code}, "room": {"Relaxation room"}, "device": {devID}, "stations": {devID},
		"session": {ses["id"].(string)}, "consent": {cons["id"].(string)}, "followup": {fu["id"].(string)},
		"name": {victim}, "scale": {"phq-9", "gad-7"}, "profile": {"kiosk-ws-1", "vr-osc-1"},
		"scopes": sessions.Scopes, "risk": {"low", "high"}, "by": {"client", "guardian"},
		"username": {"fz-counsellor", victim}, "password": {s.pw["counsellor"], "victim password"},
	}
}

// pathValue picks a value for path parameter name of path.
func (s *site) pathValue(g *gen, path, name string) string {
	if g.r.IntN(3) == 0 {
		return g.str(name, &openapi3.Schema{})
	}
	switch {
	case name == "code" || name == "name":
		return s.fixed[name][0]
	case strings.HasPrefix(path, "/v1/sessions/"):
		return s.fixed["session"][0]
	case strings.HasPrefix(path, "/v1/devices/"):
		return s.fixed["device"][0]
	case strings.Contains(path, "/consents/"):
		return s.fixed["consent"][0]
	case strings.Contains(path, "/followups/"):
		return s.fixed["followup"][0]
	case strings.HasPrefix(path, "/v1/scales/"):
		return g.pick(s.fixed["scale"])
	}
	return g.str(name, &openapi3.Schema{})
}

// counts is the row count and last rowid of every table a refused
// request must leave alone.
func (s *site) counts(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range s.tables {
		var c, last sql.NullInt64
		if err := s.db.QueryRow(`SELECT count(*), max(rowid) FROM "`+n+`"`).Scan(&c, &last); err != nil {
			// Tables without rowid: the count alone.
			if err := s.db.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c); err != nil {
				t.Fatal(err)
			}
		}
		out[n] = fmt.Sprint(c.Int64, "/", last.Int64)
	}
	return out
}

// probe is one generated request and what came of it.
type probe struct {
	role, method, url, op string
	body                  []byte
	broken                bool
}

func (p probe) String() string {
	b := string(p.body)
	if len(b) > 200 {
		b = b[:200] + fmt.Sprintf("…(%d bytes)", len(p.body))
	}
	as := p.role
	if as == "" {
		as = "logged out"
	}
	return fmt.Sprintf("%s %s as %s, body %q", p.method, p.url, as, b)
}

// make builds a request for operation o: its path parameters and query
// from their schemas, its body from the request schema, valid or broken.
func (s *site) make(g *gen, o op, role string) probe {
	path := o.path
	q := url.Values{}
	for _, pr := range o.o.Parameters {
		p := pr.Value
		v := ""
		if p.In == "path" {
			if v = s.pathValue(g, o.path, p.Name); strings.TrimSpace(v) == "" || v == "." || v == ".." {
				v = "x" + v // an empty or dot segment is another path
			}
			path = strings.Replace(path, "{"+p.Name+"}", url.PathEscape(v), 1)
			continue
		}
		if g.r.IntN(2) == 0 {
			continue
		}
		switch x := g.value(p.Name, p.Schema, 0).(type) {
		case string:
			v = x
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		if len(v) > 4000 {
			v = v[:4000]
		}
		q.Set(p.Name, v)
	}
	pr := probe{role: role, method: o.method, url: path, op: o.o.OperationID}
	if len(q) > 0 {
		pr.url += "?" + q.Encode()
	}
	if rb := o.o.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			pr.broken = g.r.IntN(3) == 0
			pr.body = g.body(mt.Schema, pr.broken)
		}
	}
	return pr
}

// check sends p and holds the answer to the document: never a 5xx, a
// status the operation documents, a body its schema allows, a request the
// document calls invalid refused with a 4xx, and a refusal leaving every
// table as it was.
func (s *site) check(t testing.TB, p probe, lang string) (status int) {
	t.Helper()
	var body io.Reader = http.NoBody
	if p.body != nil {
		body = bytes.NewReader(p.body)
	}
	req, err := http.NewRequest(p.method, s.base+p.url, body)
	if err != nil {
		t.Fatalf("%v: %v", p, err)
	}
	if p.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept-Language", lang)
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%v: kin-openapi finds no operation: %v", p, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if p.body != nil { // ValidateRequest read the body
		req.Body = io.NopCloser(bytes.NewReader(p.body))
	}
	before := s.counts(t)
	c := s.as[p.role]
	switch {
	case p.op == "postLogout" && p.role != "":
		// Log out a login of its own, not the one the other probes use;
		// when failed logins have paused logging in, it goes logged out.
		c = s.fresh(t, p.role)
	case p.op == "postLogin":
		// A login that succeeds sets a cookie: not in the jar the role's
		// other probes use (an admin's jar would hold a counsellor's).
		jar, _ := cookiejar.New(nil)
		c = &http.Client{Jar: jar}
		if old := s.as[p.role].Jar; old != nil {
			jar.SetCookies(req.URL, old.Cookies(req.URL))
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%v: %v", p, err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		t.Errorf("%v: %d %s", p, resp.StatusCode, got)
	case reqErr != nil && resp.StatusCode < 400:
		t.Errorf("%v: the document calls the request invalid (%v), yet it was answered %d %s", p, short(reqErr), resp.StatusCode, short(string(got)))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(got)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%v: the answer breaks the document: %d %s: %v", p, resp.StatusCode, short(string(got)), short(err))
	}
	if resp.StatusCode >= 400 {
		after := s.counts(t)
		for n, c := range before {
			if after[n] != c {
				t.Errorf("%v: refused with %d, yet table %s changed (%s rows/last rowid, was %s)", p, resp.StatusCode, n, after[n], c)
			}
		}
	}
	return resp.StatusCode
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// TestContract generates requests for every operation of the document,
// as each role and logged out, from the document's own schemas, and
// holds every answer to it (see check). Bounded: a fixed seed and a few
// requests an operation and role; `make fuzz` explores with FuzzContract.
func TestContract(t *testing.T) {
	s := newSite(t)
	seed := uint64(1)
	if v := os.Getenv("WAYSTATION_CONTRACT_SEED"); v != "" { // to explore by hand
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (WAYSTATION_CONTRACT_SEED)", seed)
	g := &gen{r: rand.New(rand.NewPCG(seed, 2)), fixed: s.fixed}
	n, statuses := 0, map[string][]int{}
	for _, o := range s.ops() {
		s.fixtures(t)
		g.fixed = s.fixed
		for _, role := range roles {
			tries := 2
			if allowed(o.o, role) {
				tries = 12
			}
			for range tries {
				st := s.check(t, s.make(g, o, role), g.pick([]string{"en", "zh-CN,zh;q=0.9"}))
				statuses[o.o.OperationID] = append(statuses[o.o.OperationID], st)
				n++
			}
		}
	}
	var never []string
	for id, sts := range statuses {
		if !slices.ContainsFunc(sts, func(st int) bool { return st < 300 }) {
			never = append(never, id)
		}
	}
	slices.Sort(never)
	t.Logf("%d requests over %d operations; never answered 2xx: %v", n, len(s.ops()), never)
}

// allowed reports whether the operation's x-roles list role (logged out
// is allowed where the list is empty).
func allowed(o *openapi3.Operation, role string) bool {
	rs, _ := o.Extensions["x-roles"].([]any)
	if len(rs) == 0 {
		return true
	}
	for _, r := range rs {
		if r == role {
			return true
		}
	}
	return false
}

// FuzzContract is TestContract driven by the fuzzer: each input picks an
// operation, a role and a seed for the generator, and adds raw bytes as a
// string the generator may use anywhere.
func FuzzContract(f *testing.F) {
	s := newSite(f)
	ops := s.ops()
	f.Add(uint16(0), uint8(0), uint64(1), "")
	f.Add(uint16(7), uint8(1), uint64(2), "沙盘")
	f.Add(uint16(30), uint8(3), uint64(3), "{\"x\":1}")
	calls := 0
	f.Fuzz(func(t *testing.T, opi uint16, rolei uint8, seed uint64, extra string) {
		if calls++; calls%500 == 0 {
			s.fixtures(t) // new records to find: the probes delete and change them
		}
		g := &gen{r: rand.New(rand.NewPCG(seed, uint64(opi))), fixed: s.fixed, extra: extra}
		o := ops[int(opi)%len(ops)]
		s.check(t, s.make(g, o, roles[int(rolei)%len(roles)]), "en")
	})
}
