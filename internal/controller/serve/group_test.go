package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/devices/devsim"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
)

// addKiosks registers n more kiosks in the Relaxation room through the
// store, as the CLI would, and returns their ids and tokens.
func addKiosks(t *testing.T, data string, n int) (ids, tokens []string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := registry.New(db)
	set, _ := profile.LoadDir("../../../firmware-profiles")
	for i := range n {
		d, token, err := reg.Add(ctx, set, registry.NewDevice{Profile: "kiosk-ws-1", Name: fmt.Sprintf("Group kiosk %d", i+1), Room: "Relaxation room"})
		if err != nil {
			t.Fatal(err)
		}
		ids, tokens = append(ids, d.ID), append(tokens, token)
	}
	return ids, tokens
}

// TestGroupSessionEndToEnd: three members, each at a headless kiosk of
// their own (devsim --group-tray), build one sandtray in turns. The
// kiosks act only in their turn; an action out of turn and the removal of
// another's figure are refused with the rule's words and change nothing;
// every kiosk's tray equals the controller's replay. Each member's
// check-in rating and the counsellor's note about them are theirs: their
// e-file and their report (JSON and PDF) show their own and no other
// member's code, rating or note.
func TestGroupSessionEndToEnd(t *testing.T) {
	addr, data := controller(t)
	seed(t, data)
	ids, tokens := addKiosks(t, data, 3)
	c := login(t, addr, "counsellor", "counsellor password")
	codes := []string{"G-ANT", "G-BEE", "G-CAT"}
	rating := map[string]int{"G-ANT": 2, "G-BEE": 7, "G-CAT": 9}
	members := map[string]string{}
	for i, code := range codes {
		c.do("POST", "/v1/clients", `{"code":"`+code+`","risk":"low"}`)
		if code != "G-CAT" {
			c.do("POST", "/v1/clients/"+code+"/consents", `{"scopes":["kiosk","sandtray"],"by":"client"}`)
		}
		members[code] = ids[i]
	}
	mj, _ := json.Marshal(members)
	create := `{"room":"Relaxation room","clients":["G-ANT","G-BEE","G-CAT"],"members":` + string(mj) + `,"stations":["` + strings.Join(ids, `","`) +
		`"],"plan":{"steps":[{"kind":"sandtray"}]}}`
	status, body := c.do("POST", "/v1/sessions", create)
	if _, msg := errorOf(body); status != 409 || !strings.Contains(msg, "G-CAT (kiosk, sandtray)") {
		t.Fatalf("a member without consent: %d %v, want 409 naming G-CAT and what they lack", status, body)
	}
	c.do("POST", "/v1/clients/G-CAT/consents", `{"scopes":["kiosk","sandtray"],"by":"client"}`)
	status, s := c.do("POST", "/v1/sessions", create)
	if status != 201 {
		t.Fatalf("create the group session: %d %v", status, s)
	}
	id := s["id"].(string)
	if _, got := c.do("GET", "/v1/sessions/"+id, ""); !reflect.DeepEqual(got["clients"], []any{"G-ANT", "G-BEE", "G-CAT"}) || got["client"] != "" ||
		!reflect.DeepEqual(got["members"], map[string]any{"G-ANT": ids[0], "G-BEE": ids[1], "G-CAT": ids[2]}) {
		t.Fatalf("GET the group session: clients %v client %q members %v", got["clients"], got["client"], got["members"])
	}

	// Each kiosk's member checks in with their own rating as the session
	// starts; the kiosks show the group tray, and the test plays the
	// members through them (TestGroupTrayBuiltByKiosks lets them build).
	var kiosks []*devsim.Device
	for i, tok := range tokens {
		code := codes[i]
		simulateKiosk(t, addr, tok, nil, func(d *devsim.Device) {
			d.After = func(d *devsim.Device, session, name string, _ map[string]any) {
				if name == "session.start" {
					d.Event(session, "checkin.rating", map[string]any{"value": rating[code], "mood": "calm"})
				}
			}
			kiosks = append(kiosks, d)
		})
	}
	byCode := map[string]*devsim.Device{}
	for i, code := range codes {
		byCode[code] = kiosks[i]
	}
	waitOnline(t, c, ids)
	for _, code := range codes {
		c.do("POST", "/v1/sessions/"+id+"/notes", `{"text":"note about `+code+` only","member":"`+code+`"}`)
	}
	c.do("POST", "/v1/sessions/"+id+"/notes", `{"text":"the group settled quickly"}`)
	if status, body := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 {
		t.Fatalf("start: %d %v", status, body)
	}
	for i, k := range kiosks {
		waitFor(t, fmt.Sprintf("kiosk %d shown the group tray", i+1), func() bool { _, _, sand := k.GroupTraySeen(); return sand != nil })
	}
	_, tray := c.do("GET", "/v1/sessions/"+id+"/sandtray/group", "")
	var order []string
	for _, o := range tray["order"].([]any) {
		order = append(order, o.(string))
	}
	if tray["rules"] != "turns" || len(order) != 3 || tray["turn"] != order[0] {
		t.Fatalf("group tray %v", tray)
	}
	taken := 0
	// act sends a member's action through their kiosk and returns the
	// controller's refusal, or "" once every kiosk shows it taken.
	act := func(code, kind string, data map[string]any) string {
		t.Helper()
		k := byCode[code]
		refused := len(k.Refusals())
		k.Event(id, kind, data)
		var why string
		waitFor(t, code+" "+kind+" answered", func() bool {
			if r := k.Refusals(); len(r) > refused {
				why = r[len(r)-1]
				return true
			}
			seq, _, _ := k.GroupTraySeen()
			return seq > taken
		})
		if why == "" {
			taken++
		}
		return why
	}
	first, second, third := order[0], order[1], order[2]
	plays := []struct {
		who, kind string
		data      map[string]any
		want      string
	}{
		{second, "sandtray.place", map[string]any{"figure": "lion", "x": 0.2, "y": 0.3}, "not your turn"},
		{first, "sandtray.place", map[string]any{"figure": "lion", "x": 0.2, "y": 0.3}, ""}, // figure 1, the first's
		{second, "sandtray.remove", map[string]any{"id": 1}, "not your figure"},
		{second, "sandtray.move", map[string]any{"id": 1, "x": 0.4, "y": 0.4}, ""}, // moving another's uses the turn
		{first, "sandtray.place", map[string]any{"figure": "house", "x": 0.7, "y": 0.6}, "not your turn"},
		{third, "sandtray.place", map[string]any{"figure": "house", "x": 0.7, "y": 0.6}, ""},
		{first, "sandtray.heap", map[string]any{"x": 0.5, "y": 0.5, "radius": 0.2, "amount": 0.4}, ""},
		{second, "sandtray.place", map[string]any{"figure": "evergreen-tree", "x": 0.1, "y": 0.8}, ""},
		{third, "sandtray.rotate", map[string]any{"id": 2, "angle": 45}, ""},
	}
	for i, p := range plays {
		if got := act(p.who, p.kind, p.data); got != p.want {
			t.Fatalf("play %d, %s %s %v: %q, want %q", i+1, p.who, p.kind, p.data, got, p.want)
		}
	}
	if status, body := c.do("POST", "/v1/sessions/"+id+"/sandtray/group", `{"control":"share"}`); status != 200 || body["phase"] != "sharing" {
		t.Fatalf("share: %d %v", status, body)
	}
	_, tray = c.do("GET", "/v1/sessions/"+id+"/sandtray/group", "")
	final := int(tray["seq"].(float64))
	if final != taken+1 {
		t.Errorf("the tray took %d steps, want the %d actions and the share", final, taken)
	}

	// Every kiosk holds the controller's tray, and so does the replay.
	_, replay := c.do("GET", "/v1/sessions/"+id+"/sandtray", "")
	steps := replay["steps"].([]any)
	last := steps[len(steps)-1].(map[string]any)
	want := map[int]string{}
	for _, p := range last["placed"].([]any) {
		pm := p.(map[string]any)
		want[int(pm["id"].(float64))] = fmt.Sprintf("%s by %s", pm["figure"], pm["member"])
	}
	if len(want) != 3 || len(steps) != final {
		t.Fatalf("replay: %d steps (want %d), last placed %v", len(steps), final, want)
	}
	authority := map[int]string{}
	for _, p := range tray["placed"].([]any) {
		pm := p.(map[string]any)
		authority[int(pm["id"].(float64))] = fmt.Sprintf("%s by %s", pm["figure"], pm["member"])
	}
	if !maps.Equal(authority, want) {
		t.Errorf("the controller's tray %v, its replay %v", authority, want)
	}
	sand := tray["sand"].([]any)
	for i, k := range kiosks {
		waitFor(t, fmt.Sprintf("kiosk %d has every step", i+1), func() bool { seq, _, _ := k.GroupTraySeen(); return seq >= final })
		_, placed, ksand := k.GroupTraySeen()
		if !maps.Equal(placed, want) {
			t.Errorf("kiosk %d shows %v, the replay %v", i+1, placed, want)
		}
		for j := range ksand {
			if ksand[j] != sand[j].(float64) {
				t.Errorf("kiosk %d: sand cell %d is %v, the controller's %v", i+1, j, ksand[j], sand[j])
				break
			}
		}
	}
	for _, st := range steps {
		sm := st.(map[string]any)
		if sm["control"] == nil && !slices.Contains(codes, fmt.Sprint(sm["member"])) {
			t.Errorf("a replayed action without its member: %v", sm)
		}
	}
	c.do("POST", "/v1/sessions/"+id+"/end", "")

	// Each member's records: their own, no one else's.
	if status, body := c.do("GET", "/v1/sessions/"+id+"/report", ""); status != 400 || !strings.Contains(fmt.Sprint(body), "G-ANT, G-BEE, G-CAT") {
		t.Errorf("a group's report without a member: %d %v", status, body)
	}
	for _, code := range codes {
		others := slices.DeleteFunc(slices.Clone(codes), func(o string) bool { return o == code })
		_, file := c.do("GET", "/v1/clients/"+code+"/file", "")
		fb, _ := json.Marshal(file)
		_, rep := c.do("GET", "/v1/sessions/"+id+"/report?client="+code, "")
		rb, _ := json.Marshal(rep)
		pdf := get(t, c, "/v1/sessions/"+id+"/report.pdf?client="+code)
		text := pdfText(t, pdf)
		for what, doc := range map[string]string{"e-file": string(fb), "report": string(rb), "PDF report": text} {
			if !strings.Contains(doc, code) || (what != "PDF report" && !strings.Contains(doc, "note about "+code+" only")) {
				t.Errorf("%s's %s lacks their own code or note", code, what)
			}
			for _, o := range others {
				if strings.Contains(doc, o) {
					t.Errorf("%s's %s shows another member's code %s", code, what, o)
				}
			}
			if strings.Contains(doc, "the group settled quickly") {
				t.Errorf("%s's %s shows the group's note", code, what)
			}
		}
		if !strings.Contains(text, "note about "+code+" only") {
			t.Errorf("%s's PDF report lacks their note: %q", code, text)
		}
		dist := file["distress"].([]any)
		if len(dist) != 1 || dist[0].(map[string]any)["value"] != float64(rating[code]) {
			t.Errorf("%s's e-file ratings %v, want only their own %d", code, dist, rating[code])
		}
		sess := file["sessions"].([]any)
		if len(sess) != 1 || sess[0].(map[string]any)["group"] != true {
			t.Errorf("%s's e-file sessions %v, want the group session", code, sess)
		}
	}
	if status, _ := c.do("GET", "/v1/sessions/"+id+"/report?client=C-NOPE", ""); status != 404 {
		t.Errorf("the report of someone not in the group: %d", status)
	}
}

// get fetches a path and returns its body, failing on a status but 200.
func get(t *testing.T, c *client, path string) []byte {
	t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

// waitFor polls cond every 20 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("waited 10 s for %s", what)
}

// waitOnline waits until the devices are online.
func waitOnline(t *testing.T, c *client, ids []string) {
	t.Helper()
	waitFor(t, "the devices online", func() bool {
		_, devs := c.do("GET", "/v1/devices", "")
		online := 0
		for _, d := range devs["devices"].([]any) {
			if dm := d.(map[string]any); slices.Contains(ids, dm["id"].(string)) && dm["status"] == "online" {
				online++
			}
		}
		return online == len(ids)
	})
}

// TestGroupTrayBuiltByKiosks: three simulated kiosks whose members act in
// their turn (devsim --group-tray) build a tray on their own; after the
// counsellor ends the build, every kiosk shows the controller's tray and
// each action is its member's, in the turn order drawn.
func TestGroupTrayBuiltByKiosks(t *testing.T) {
	addr, data := controller(t)
	seed(t, data)
	ids, tokens := addKiosks(t, data, 3)
	c := login(t, addr, "counsellor", "counsellor password")
	var kiosks []*devsim.Device
	for i, tok := range tokens {
		c.do("POST", "/v1/clients", fmt.Sprintf(`{"code":"M-%d","risk":"low"}`, i+1))
		c.do("POST", fmt.Sprintf("/v1/clients/M-%d/consents", i+1), `{"scopes":["kiosk","sandtray"],"by":"client"}`)
		simulateKiosk(t, addr, tok, nil, func(d *devsim.Device) {
			d.GroupTray, d.GroupThinkMS = true, 30
			kiosks = append(kiosks, d)
		})
	}
	waitOnline(t, c, ids)
	status, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","clients":["M-1","M-2","M-3"],"members":{"M-1":"`+ids[0]+`","M-2":"`+ids[1]+`","M-3":"`+ids[2]+`"},
		"stations":["`+strings.Join(ids, `","`)+`"]}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, s)
	}
	id := s["id"].(string)
	c.do("POST", "/v1/sessions/"+id+"/start", "")
	if status, body := c.do("POST", "/v1/sessions/"+id+"/sandtray/group", `{"control":"start","rules":"turns"}`); status != 200 {
		t.Fatalf("start the group tray: %d %v", status, body)
	}
	var tray map[string]any
	waitFor(t, "twelve steps built by the kiosks", func() bool {
		_, tray = c.do("GET", "/v1/sessions/"+id+"/sandtray/group", "")
		return tray["seq"].(float64) >= 12
	})
	c.do("POST", "/v1/sessions/"+id+"/sandtray/group", `{"control":"share"}`)
	_, tray = c.do("GET", "/v1/sessions/"+id+"/sandtray/group", "")
	final := int(tray["seq"].(float64))
	want := map[int]string{}
	for _, p := range tray["placed"].([]any) {
		pm := p.(map[string]any)
		want[int(pm["id"].(float64))] = fmt.Sprintf("%s by %s", pm["figure"], pm["member"])
	}
	for i, k := range kiosks {
		waitFor(t, fmt.Sprintf("kiosk %d has every step", i+1), func() bool { seq, _, _ := k.GroupTraySeen(); return seq >= final })
		if _, placed, _ := k.GroupTraySeen(); !maps.Equal(placed, want) {
			t.Errorf("kiosk %d shows %v, the controller %v", i+1, placed, want)
		}
		for _, r := range k.Refusals() {
			if !strings.Contains(r, "the group is sharing") { // an action crossing the share is refused
				t.Errorf("kiosk %d acting in its turn was refused: %q", i+1, r)
			}
		}
	}
	_, replay := c.do("GET", "/v1/sessions/"+id+"/sandtray", "")
	var order []any
	if g, ok := replay["group"].(map[string]any); ok {
		order = g["order"].([]any)
	}
	n := 0
	for _, st := range replay["steps"].([]any) {
		sm := st.(map[string]any)
		if sm["control"] != nil {
			continue
		}
		if len(order) != 3 || sm["member"] != order[n%3] {
			t.Fatalf("action %d by %v, want %v in the order drawn %v", n+1, sm["member"], order[n%3], order)
		}
		n++
	}
	if n < 12 {
		t.Errorf("the replay holds %d actions, want 12 or more", n)
	}
}
