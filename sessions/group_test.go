package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/profile"
	"waystation/internal/platform/waystation"
	"waystation/sessions/grouptray"
)

// groupKiosk is a member's kiosk over a real websocket: it acknowledges
// every command, keeps a Mirror of the group tray from the sandtray.group
// commands it is sent (refusing a step after a gap, as the kiosk does),
// and hands the stored and error frames to act.
type groupKiosk struct {
	t      testing.TB
	ws     *websocket.Conn
	wmu    sync.Mutex
	mu     sync.Mutex
	mirror grouptray.Mirror
	names  []string // commands received, in order
	frames chan map[string]any
	dseq   int64
	done   chan struct{}
	// onStep, if set, is told of each member's step as it arrives: the
	// kiosk's own member, the step's member, which of their actions it is
	// (0, 1, ...), and when. It is called with the kiosk's lock held.
	onStep func(you, member string, n int, at time.Time)
	count  map[string]int
}

func (e *env) groupKiosk(token string) *groupKiosk {
	e.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(e.wsURL, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ws.Close() })
	d := &dev{t: e.t, ws: ws}
	d.send(`{"type":"hello","firmware":"0.5.0"}`)
	w := d.expect("welcome")
	last, _ := w["last_dseq"].(float64) // a kiosk goes on from what the controller holds
	g := &groupKiosk{t: e.t, ws: d.ws, frames: make(chan map[string]any, 64), done: make(chan struct{}), dseq: int64(last)}
	return g
}

// start starts reading the kiosk's frames.
func (g *groupKiosk) start() *groupKiosk {
	go g.read()
	return g
}

func (g *groupKiosk) write(v any) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	g.ws.WriteJSON(v)
}

func (g *groupKiosk) read() {
	defer close(g.done)
	for {
		var f struct {
			Type string          `json:"type"`
			ID   string          `json:"id"`
			Name string          `json:"name"`
			Args json.RawMessage `json:"args"`
		}
		_, b, err := g.ws.ReadMessage()
		if err != nil {
			return
		}
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		if f.Type != "command" {
			var m map[string]any
			json.Unmarshal(b, &m)
			g.frames <- m
			continue
		}
		ok, reason := true, ""
		g.mu.Lock()
		g.names = append(g.names, f.Name)
		if f.Name == groupCommand {
			var c grouptray.Command
			if err := json.Unmarshal(f.Args, &c); err != nil {
				ok, reason = false, err.Error()
			} else if err := g.mirror.Apply(c); err != nil {
				ok, reason = false, err.Error()
			} else if c.Step != nil && c.Step.Member != "" && g.onStep != nil {
				if g.count == nil {
					g.count = map[string]int{}
				}
				g.onStep(g.mirror.You, c.Step.Member, g.count[c.Step.Member], time.Now())
				g.count[c.Step.Member]++
			}
		}
		g.mu.Unlock()
		g.write(map[string]any{"type": "ack", "id": f.ID, "ok": ok, "error": reason})
	}
}

// act sends a sandtray action as the kiosk does and returns the answer:
// "" when it was stored, else the error frame's message.
func (g *groupKiosk) act(session, kind, data string) string {
	g.t.Helper()
	g.dseq++
	g.write(map[string]any{"type": "event", "dseq": g.dseq, "session": session, "kind": kind, "data": json.RawMessage(data)})
	for {
		select {
		case f := <-g.frames:
			if d, _ := f["dseq"].(float64); int64(d) != g.dseq {
				continue
			}
			switch f["type"] {
			case "stored":
				return ""
			case "error":
				return f["message"].(string)
			}
		case <-time.After(5 * time.Second):
			g.t.Fatalf("no answer to %s %s", kind, data)
		}
	}
}

// view is the kiosk's mirror now (a copy of what the test compares).
func (g *groupKiosk) view() (seq int, turn, you string, placed map[int]string, sand []float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	placed = map[int]string{}
	if g.mirror.Tray == nil {
		return g.mirror.Seq, g.mirror.Turn, g.mirror.You, placed, nil
	}
	for _, p := range g.mirror.Tray.Placed {
		placed[p.ID] = fmt.Sprintf("%s %.3f,%.3f by %s", p.Figure, p.X, p.Y, g.mirror.Authors[p.ID])
	}
	return g.mirror.Seq, g.mirror.Turn, g.mirror.You, placed, slices.Clone(g.mirror.Tray.Sand)
}

// waitSeq waits until the kiosk holds the group tray's first n steps.
func (g *groupKiosk) waitSeq(n int) {
	g.t.Helper()
	for range 500 {
		if seq, _, _, _, _ := g.view(); seq >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	seq, _, _, _, _ := g.view()
	g.t.Fatalf("the kiosk holds %d steps of the group tray, want %d", seq, n)
}

// groupSession makes clients C-1..C-n, their kiosks, and a planned group
// session whose one step is the sandtray, each member at their own kiosk.
func (e *env) groupSession(n int) (Session, []string, []string) {
	e.t.Helper()
	ctx := context.Background()
	e.engine.Profiles = func() *profile.Set { return e.set }
	var clients, stations, tokens []string
	members := map[string]string{}
	for i := 1; i <= n; i++ {
		code := fmt.Sprintf("C-%d", i)
		if _, err := e.engine.Clients.AddClient(ctx, e.alice, code, Low); err != nil {
			e.t.Fatal(err)
		}
		k, token := e.device("kiosk-ws-1", "Kiosk "+code, "Relaxation room")
		clients, stations, tokens = append(clients, code), append(stations, k.ID), append(tokens, token)
		members[code] = k.ID
	}
	s, err := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Clients: clients, Members: members, Stations: stations,
		Plan: json.RawMessage(`{"steps":[{"kind":"sandtray"}]}`)})
	if err != nil {
		e.t.Fatal(err)
	}
	return s, stations, tokens
}

// TestGroupSessionCreate: a group is 2 to 12 known members, each station
// assigned to one of them at most; the session reads back with its
// members in order and the highest of their risk tiers; a member without
// consent for what the session records is not added, and the refusal
// names who lacks what.
func TestGroupSessionCreate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Profiles = func() *profile.Set { return e.set }
	for _, c := range []struct {
		code string
		risk Risk
	}{{"C-1", Low}, {"C-2", High}, {"C-3", Medium}} {
		e.engine.Clients.AddClient(ctx, e.alice, c.code, c.risk)
	}
	k1, _ := e.device("kiosk-ws-1", "Kiosk 1", "Relaxation room")
	k2, _ := e.device("kiosk-ws-1", "Kiosk 2", "Relaxation room")
	room := "Relaxation room"
	errs := []refusedCreate{
		{NewSession{Room: room, Clients: []string{"C-1"}, Stations: []string{k1.ID}}, "a group has 2 to 12 members (clients), got 1"},
		{NewSession{Room: room, Client: "C-1", Clients: []string{"C-1", "C-2"}, Stations: []string{k1.ID}}, `give "client" for one client or "clients" for a group, not both`},
		{NewSession{Room: room, Clients: []string{"C-1", "c-1"}, Stations: []string{k1.ID}}, "client C-1 is listed twice in the group"},
		{NewSession{Room: room, Clients: []string{"C-1", "C-9"}, Stations: []string{k1.ID}}, `unknown client "C-9"`},
		{NewSession{Room: room, Clients: []string{"C-1", GroupCode}, Stations: []string{k1.ID}}, `unknown client "_GROUP"`},
		{NewSession{Room: room, Clients: []string{"C-1", "C-2"}, Members: map[string]string{"C-3": k1.ID}, Stations: []string{k1.ID}}, "members: C-3 is not one of the group's clients"},
		{NewSession{Room: room, Clients: []string{"C-1", "C-2"}, Members: map[string]string{"C-1": k2.ID}, Stations: []string{k1.ID}}, "members: C-1's station " + k2.ID + " is not one of the session's stations"},
		{NewSession{Room: room, Clients: []string{"C-1", "C-2"}, Members: map[string]string{"C-1": k1.ID, "C-2": k1.ID}, Stations: []string{k1.ID}}, "is assigned to both C-1 and C-2"},
		{NewSession{Room: room, Client: "C-1", Members: map[string]string{"C-1": k1.ID}, Stations: []string{k1.ID}}, `give "clients" too`},
		{NewSession{Room: room, Clients: []string{"C-1", "C-2"}, Staff: true, Stations: []string{k1.ID}}, "a staff session has no clients"},
	}
	e.refusedCreates(errs)

	// Consent: the plan's sandtray and the kiosks need kiosk and sandtray.
	e.engine.RequireConsent = true
	ns := NewSession{Room: room, Clients: []string{"C-1", "C-2", "C-3"}, Members: map[string]string{"c-2": k1.ID}, Stations: []string{k1.ID, k2.ID},
		Plan: json.RawMessage(`{"steps":[{"kind":"sandtray"}]}`)}
	e.engine.Clients.AddConsent(ctx, e.alice, "C-1", []string{ScopeKiosk, ScopeSandtray}, ByClient, "")
	e.engine.Clients.AddConsent(ctx, e.alice, "C-2", []string{ScopeKiosk}, ByClient, "")
	_, err := e.engine.Create(ctx, e.alice, ns)
	if want := "members without consent on file for what this session records: C-2 (sandtray); C-3 (kiosk, sandtray)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Create without consent: %v, want %q", err, want)
	}
	e.engine.Clients.AddConsent(ctx, e.alice, "C-2", []string{ScopeSandtray}, ByClient, "")
	e.engine.Clients.AddConsent(ctx, e.alice, "C-3", []string{ScopeKiosk, ScopeSandtray}, ByClient, "")
	s, err := e.engine.Create(ctx, e.alice, ns)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.engine.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Client != "" || !reflect.DeepEqual(got.Clients, []string{"C-1", "C-2", "C-3"}) || !reflect.DeepEqual(got.Members, map[string]string{"C-2": k1.ID}) || got.Risk != High {
		t.Errorf("group read back: client %q clients %v members %v risk %s; want none, C-1..C-3, C-2 at kiosk 1, high", got.Client, got.Clients, got.Members, got.Risk)
	}
	if list, _ := e.engine.Clients.ListClients(ctx); slices.ContainsFunc(list, func(c Client) bool { return c.Code == GroupCode }) {
		t.Error("the group pseudo-client is listed among the clients")
	}
	// A consent withdrawn before the start stops it, naming the member.
	cs, _ := e.engine.Clients.Consents(ctx, "C-3")
	e.engine.Clients.WithdrawConsent(ctx, e.alice, "C-3", cs[0].ID)
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "start"); err == nil || !strings.Contains(err.Error(), "C-3 (kiosk, sandtray)") {
		t.Errorf("start after C-3 withdrew: %v, want C-3 named", err)
	}
	if _, missing, _ := e.engine.ConsentFor(ctx, got); !reflect.DeepEqual(missing, []string{ScopeKiosk, ScopeSandtray}) {
		t.Errorf("ConsentFor: missing %v, want kiosk, sandtray", missing)
	}
}

// TestGroupTrayTurns: three members at three kiosks build one tray in
// turns. The controller orders every action: out of turn is refused
// ("not your turn"), removing another's figure too ("not your figure"),
// moving one uses the turn; refused actions change nothing and are not
// stored. Every kiosk ends with the authority's tray; a kiosk that drops
// and comes back is sent the tray as it is now; the log reads back to the
// same tray, each action with its member.
func TestGroupTrayTurns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s, stations, tokens := e.groupSession(3)
	var ks []*groupKiosk
	for _, tok := range tokens {
		ks = append(ks, e.groupKiosk(tok).start())
	}
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "start"); err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		k.waitSeq(0)
	}
	for _, k := range ks { // the whole tray follows the sandtray.open
		for range 500 {
			if _, _, you, _, sand := k.view(); you != "" && sand != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	byMember := map[string]*groupKiosk{}
	for i, k := range ks {
		_, _, you, _, _ := k.view()
		if want := fmt.Sprintf("C-%d", i+1); you != want {
			t.Fatalf("kiosk %d is told it is %q, want %s", i+1, you, want)
		}
		byMember[you] = k
		k.mu.Lock()
		if !slices.Equal(k.names[:2], []string{"session.start", "sandtray.open"}) || k.names[2] != groupCommand {
			t.Errorf("kiosk %d was sent %v, want session.start, sandtray.open, sandtray.group", i+1, k.names)
		}
		k.mu.Unlock()
	}
	v, err := e.engine.GroupTray(ctx, s.ID)
	if err != nil || v == nil {
		t.Fatalf("GroupTray: %v %v", v, err)
	}
	order := v.Order
	if v.Rules != grouptray.Turns || v.Turn != order[0] || len(order) != 3 {
		t.Fatalf("group tray starts with rules %s, turn %s, order %v; want turns, the first drawn", v.Rules, v.Turn, order)
	}
	first, second, third := byMember[order[0]], byMember[order[1]], byMember[order[2]]
	steps := []struct {
		who        *groupKiosk
		kind, data string
		want       string
	}{
		{second, "sandtray.place", `{"figure":"lion","x":0.2,"y":0.2}`, "not your turn"},
		{first, "sandtray.place", `{"figure":"lion","x":0.2,"y":0.2}`, ""}, // figure 1, the first's
		{first, "sandtray.place", `{"figure":"evergreen-tree","x":0.5,"y":0.5}`, "not your turn"},
		{second, "sandtray.move", `{"id":1,"x":0.3,"y":0.3}`, ""}, // moving another's figure uses the turn
		{third, "sandtray.remove", `{"id":1}`, "not your figure"},
		{third, "sandtray.clear", `{}`, "clear is not a member's action"},
		{third, "sandtray.place", `{"figure":"nope-figure","x":0.5,"y":0.5}`, "nope-figure"},
		{third, "sandtray.dig", `{"x":0.5,"y":0.5,"radius":0.1,"amount":0.3}`, ""},
		{first, "sandtray.place", `{"figure":"house","x":0.7,"y":0.6}`, ""},           // figure 2
		{second, "sandtray.place", `{"figure":"evergreen-tree","x":0.1,"y":0.8}`, ""}, // figure 3
		{third, "sandtray.remove", `{"id":3}`, "not your figure"},
		{third, "sandtray.rotate", `{"id":2,"angle":90}`, ""},
		{first, "sandtray.remove", `{"id":1}`, ""}, // one's own
	}
	taken := 0
	for i, st := range steps {
		got := st.who.act(s.ID, st.kind, st.data)
		if st.want == "" && got != "" || st.want != "" && !strings.Contains(got, st.want) {
			t.Fatalf("step %d %s %s: answered %q, want %q", i+1, st.kind, st.data, got, st.want)
		}
		if got == "" {
			taken++
		}
	}
	for _, k := range ks {
		k.waitSeq(taken)
	}
	// A kiosk drops out and comes back: it is sent the tray as it is now.
	ks[1].ws.Close()
	<-ks[1].done
	ks[1] = e.groupKiosk(tokens[1]).start()
	ks[1].waitSeq(taken)
	byMember["C-2"] = ks[1]
	first, second = byMember[order[0]], byMember[order[1]]

	v, _ = e.engine.GroupTray(ctx, s.ID)
	want := map[int]string{}
	for _, p := range v.Placed {
		want[p.ID] = fmt.Sprintf("%s %.3f,%.3f by %s", p.Figure, p.X, p.Y, p.Member)
	}
	if len(want) != 2 {
		t.Errorf("the authority's tray holds %v, want the house and the second tree", want)
	}
	for i, k := range ks {
		seq, turn, _, placed, sand := k.view()
		if seq != taken || turn != v.Turn || !reflect.DeepEqual(placed, want) || !slices.Equal(sand, v.Sand) {
			t.Errorf("kiosk %d: seq %d turn %s placed %v, want seq %d turn %s placed %v and the same sand", i+1, seq, turn, placed, taken, v.Turn, want)
		}
	}
	// The log reads back to the same tray, each action with its member,
	// and holds none of the refused ones.
	evs, _ := e.log.Read(ctx, s.ID, 0, 0)
	var gevs []grouptray.Event
	actions := 0
	for _, ev := range evs {
		gevs = append(gevs, grouptray.Event{Kind: ev.Kind, Data: ev.Data})
		if _, a, err := grouptray.MemberAction(ev.Kind, ev.Data); err == nil && a.Kind != "" && strings.HasPrefix(ev.Kind, "sandtray.") {
			actions++
			var d struct{ Member string }
			json.Unmarshal(ev.Data, &d)
			if !slices.Contains(order, d.Member) {
				t.Errorf("%s stored with member %q", ev.Kind, d.Member)
			}
		}
	}
	if actions != taken {
		t.Errorf("the log holds %d actions, want the %d taken", actions, taken)
	}
	replayed, err := grouptray.FromEvents(gevs)
	if err != nil {
		t.Fatal(err)
	}
	if got := replayed.State(); !reflect.DeepEqual(got, v.State) {
		t.Errorf("the log replays to %+v, want %+v", got, v.State)
	}

	// The counsellor: free rules, then sharing; the spotlight shows one
	// member's actions; after share no one acts.
	if _, err := e.engine.GroupControl(ctx, e.alice, s.ID, GroupFree, ""); err != nil {
		t.Fatal(err)
	}
	if got := second.act(s.ID, "sandtray.place", `{"figure":"sailboat","x":0.4,"y":0.4}`); got != "" {
		t.Errorf("free rules: %q", got)
	}
	if got := second.act(s.ID, "sandtray.place", `{"figure":"sailboat","x":0.6,"y":0.4}`); got != "" {
		t.Errorf("free rules, a second action: %q", got)
	}
	if _, err := e.engine.GroupControl(ctx, e.alice, s.ID, GroupSpotlight, order[0]); err == nil || !strings.Contains(err.Error(), "end the silent build first") {
		t.Errorf("spotlight during the build: %v", err)
	}
	e.engine.GroupControl(ctx, e.alice, s.ID, GroupShare, "")
	sv, err := e.engine.GroupControl(ctx, e.alice, s.ID, GroupSpotlight, order[0])
	if err != nil || sv.Spotlight != order[0] || len(sv.SpotlightSteps) != 3 || sv.SpotlightSteps[0].Member != order[0] {
		t.Errorf("spotlight on %s: %v, %d steps (want the 3 of the first member): %v", order[0], sv.Spotlight, len(sv.SpotlightSteps), err)
	}
	if got := first.act(s.ID, "sandtray.place", `{"figure":"sailboat","x":0.4,"y":0.4}`); !strings.Contains(got, "sharing") {
		t.Errorf("an action while sharing: %q, want refused", got)
	}
	if _, err := e.engine.GroupControl(ctx, e.alice, s.ID, "dance", ""); err == nil || !strings.Contains(err.Error(), `unknown group tray control "dance"`) {
		t.Errorf("unknown control: %v", err)
	}
	_ = stations
}

// TestGroupEventsCarryTheirMember: in a group session, the controller
// says whom a station's event is about: the member the station is
// assigned to, whatever the device wrote; a shared station's events are
// the group's and carry no member.
func TestGroupEventsCarryTheirMember(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Profiles = func() *profile.Set { return e.set }
	e.engine.Clients.AddClient(ctx, e.alice, "C-1", Low)
	e.engine.Clients.AddClient(ctx, e.alice, "C-2", Low)
	k1, t1 := e.device("kiosk-ws-1", "Kiosk 1", "Relaxation room")
	k2, t2 := e.device("kiosk-ws-1", "Kiosk 2", "Relaxation room")
	s, err := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Clients: []string{"C-1", "C-2"}, Members: map[string]string{"C-1": k1.ID}, Stations: []string{k1.ID, k2.ID}})
	if err != nil {
		t.Fatal(err)
	}
	own, shared := e.groupKiosk(t1).start(), e.groupKiosk(t2).start()
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	if got := own.act(s.ID, "checkin.rating", `{"value":6,"member":"C-2"}`); got != "" {
		t.Fatal(got)
	}
	if got := shared.act(s.ID, "checkin.rating", `{"value":3,"member":"C-1"}`); got != "" {
		t.Fatal(got)
	}
	evs, _ := e.log.Read(ctx, s.ID, 0, 0)
	var got []string
	for _, ev := range evs {
		if ev.Kind == "checkin.rating" {
			got = append(got, string(ev.Data))
		}
	}
	if want := []string{`{"member":"C-1","value":6}`, `{"value":3}`}; !slices.Equal(got, want) {
		t.Errorf("ratings stored as %v, want %v", got, want)
	}
	_ = waystation.Event{}
}
