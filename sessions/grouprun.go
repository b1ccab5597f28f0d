package sessions

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/waystation"
	"waystation/kiosk/sandtray"
	"waystation/sessions/eventlog"
	"waystation/sessions/grouptray"
)

// The group tray's command to kiosks (see devices/capability): the whole
// tray, or its next step.
const groupCommand = "sandtray.group"

// groupInfo is what the engine keeps of a session to route its events:
// for a group, which member each assigned station is.
type groupInfo struct {
	group   bool
	members map[string]string // device -> member
}

// groupRun is a group session's shared sandtray, held while the
// controller runs: the authority every member's action passes through.
type groupRun struct {
	mu        sync.Mutex
	session   string
	tray      *grouptray.Tray
	members   map[string]string // device -> member, the stations taking part
	stations  []string          // every station shown the tray
	spotlight string            // the member sharing now, or ""
	// dseq is the highest device sequence number taken from each
	// station: a resent action is not taken twice.
	dseq map[string]int64
}

// groupPush is a tray update for the kiosks, queued in the order of the
// steps (the push loop sends them; the event log's writer must not
// block): the whole tray to one station or all, or one step to all.
type groupPush struct {
	run    *groupRun
	device string          // "" for every station
	step   *grouptray.Step // nil: the whole tray
	reload bool            // a step was not stored: read the tray from the log again first
}

// groupOf returns how a session's events are routed: for a group, its
// stations' members. Sessions never change members, so it is cached; an
// unknown stream (a device's own log) is no group.
func (e *Engine) groupOf(ctx context.Context, session string) groupInfo {
	e.mu.Lock()
	gi, ok := e.groups[session]
	e.mu.Unlock()
	if ok {
		return gi
	}
	var owner string
	err := e.db.R.QueryRowContext(ctx, `SELECT client_code FROM sessions WHERE id = ?`, session).Scan(&owner)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		e.logger.Error("whose events: read the session", "session", session, "err", err)
		return groupInfo{}
	}
	gi = groupInfo{group: owner == GroupCode, members: map[string]string{}}
	if gi.group {
		s := Session{ID: session, Client: GroupCode}
		if err := e.loadMembers(ctx, &s); err != nil {
			e.logger.Error("whose events: read the members", "session", session, "err", err)
			return groupInfo{}
		}
		for code, dev := range s.Members {
			gi.members[dev] = code
		}
	}
	e.mu.Lock()
	e.groups[session] = gi
	e.mu.Unlock()
	return gi
}

// Admit implements the device transports' Router: in a group session,
// an event from a member's own station is stamped with that member
// ("member"), one from a shared station carries none (whatever the device
// wrote there), and a sandtray action goes to the group tray's authority
// when one runs.
func (e *Engine) Admit(d waystation.Device, rec eventlog.Record, done func(error)) (eventlog.Record, bool) {
	if rec.Stream == d.ID {
		return rec, false // the device's own log
	}
	ctx := context.Background()
	gi := e.groupOf(ctx, rec.Stream)
	if !gi.group {
		return rec, false
	}
	member := gi.members[d.ID]
	if _, isAction, _ := sandtray.FromEvent(rec.Kind, nil); isAction {
		if run := e.groupRunOf(ctx, rec.Stream); run != nil {
			e.take(run, d, member, rec, done)
			return rec, true
		}
	}
	rec.Data = stampMember(rec.Data, member)
	return rec, false
}

// stampMember sets "member" in an event's data (an object) to member,
// or takes it out when member is empty; other data is kept as it came.
func stampMember(data json.RawMessage, member string) json.RawMessage {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		if member == "" || len(t) > 0 {
			return data
		}
		return mustJSON(map[string]string{"member": member})
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return data // the store refuses it, with its own message
	}
	if _, had := m["member"]; !had && member == "" {
		return data
	}
	delete(m, "member")
	if member != "" {
		m["member"] = mustJSON(member)
	}
	return mustJSON(m)
}

// groupRunOf returns a session's group tray: held in memory, or read back
// from the session's log (after a restart); nil when none was started.
func (e *Engine) groupRunOf(ctx context.Context, session string) *groupRun {
	e.mu.Lock()
	run, ok := e.trays[session]
	e.mu.Unlock()
	if ok {
		return run
	}
	run, err := e.loadGroupRun(ctx, session)
	if err != nil {
		e.logger.Error("group tray: read from the log", "session", session, "err", err)
		return nil
	}
	e.mu.Lock()
	if held, ok := e.trays[session]; ok { // another reader got there first
		run = held
	} else {
		e.trays[session] = run // nil too: none was started, until startGroupTray
	}
	e.mu.Unlock()
	return run
}

// loadGroupRun reads a session's group tray from its log: nil when the
// log holds none.
func (e *Engine) loadGroupRun(ctx context.Context, session string) (*groupRun, error) {
	var evs []grouptray.Event
	started := false
	err := e.log.Each(ctx, session, 0, func(ev waystation.Event) bool {
		started = started || ev.Kind == grouptray.KindStarted
		evs = append(evs, grouptray.Event{Kind: ev.Kind, Data: ev.Data})
		return true
	})
	if err != nil {
		return nil, err
	}
	if !started {
		return nil, nil
	}
	t, err := grouptray.FromEvents(evs)
	if err != nil {
		return nil, err
	}
	s, err := e.Get(ctx, session)
	if err != nil {
		return nil, err
	}
	run := &groupRun{session: session, tray: t, stations: s.Stations, members: map[string]string{}, dseq: map[string]int64{}}
	for code, dev := range s.Members {
		if slices.Contains(t.Order(), code) {
			run.members[dev] = code
		}
	}
	return run, nil
}

// take is the authority's turn at a member's action: refused with its
// reason (nothing stored, nothing changed), or applied, stored as the
// group's next step (the member in its data) and, once stored, pushed to
// every station.
func (e *Engine) take(run *groupRun, d waystation.Device, member string, rec eventlog.Record, done func(error)) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if s, ok := e.ActiveSession(d.ID); !ok || s != run.session {
		done(waystation.Errorf(waystation.ECONFLICT, "session %s is not running: the group tray takes no actions", run.session))
		return
	}
	if _, taking := run.members[d.ID]; !taking {
		done(waystation.Errorf(waystation.EFORBIDDEN, "station %s is not a member's own in this group tray (a shared station only shows it)", d.ID))
		return
	}
	if rec.DSeq > 0 {
		if _, known := run.dseq[d.ID]; !known {
			last, err := e.log.LastDSeq(context.Background(), d.ID)
			if err != nil {
				done(err)
				return
			}
			run.dseq[d.ID] = last
		}
		if rec.DSeq <= run.dseq[d.ID] {
			done(nil) // taken and stored before: the stored frame was lost
			return
		}
	}
	_, a, err := grouptray.MemberAction(rec.Kind, rec.Data)
	if err != nil {
		done(waystation.Errorf(waystation.EINVALID, "%s: %v", rec.Kind, err))
		return
	}
	if _, err := run.tray.Apply(member, a); err != nil {
		done(waystation.Errorf(waystation.ECONFLICT, "%v", err))
		return
	}
	steps := run.tray.Steps()
	step := steps[len(steps)-1]
	ev := grouptray.EventOf(step)
	rec.Kind, rec.Data = ev.Kind, ev.Data
	if rec.DSeq > 0 {
		run.dseq[d.ID] = rec.DSeq
	}
	err = e.log.AppendAsync(context.Background(), []eventlog.Record{rec}, func(_ []eventlog.Result, err error) {
		if err != nil {
			e.pushes.push(groupPush{run: run, reload: true})
			done(err)
			return
		}
		done(nil)
		e.pushes.push(groupPush{run: run, step: &step})
	})
	if err != nil {
		e.reloadGroupRun(run)
		done(err)
	}
}

// reloadGroupRun reads a group tray back from the log after a step that
// was taken could not be stored: the log, not memory, is the truth.
// Called with run.mu held.
func (e *Engine) reloadGroupRun(run *groupRun) {
	fresh, err := e.loadGroupRun(context.Background(), run.session)
	if err != nil || fresh == nil {
		e.logger.Error("group tray: read back from the log after a failed store", "session", run.session, "err", err)
		return
	}
	run.tray = fresh.tray
	run.dseq = map[string]int64{}
}

// pushOne sends one queued tray update (the push loop's).
func (e *Engine) pushOne(p groupPush) {
	run := p.run
	run.mu.Lock()
	if p.reload {
		e.reloadGroupRun(run)
	}
	var cmd grouptray.Command
	if p.step != nil {
		sv := run.stepView(*p.step)
		cmd = grouptray.Command{Seq: p.step.Seq, Step: &sv}
	} else {
		v := run.stateView()
		cmd = grouptray.Command{Seq: v.Seq, State: &v}
	}
	targets := run.stations
	if p.device != "" {
		targets = []string{p.device}
	}
	members := run.members
	run.mu.Unlock()

	type waiting struct {
		device string
		wait   func(context.Context) (bool, string, error)
	}
	var waits []waiting
	for _, dev := range targets {
		cmd.You = members[dev]
		raw := mustJSON(cmd)
		if _, err := e.sender.Check(dev, groupCommand, raw); err != nil {
			continue // offline, or not a kiosk: it is sent the whole tray when it comes back
		}
		id := fmt.Sprintf("g-%s-%d", e.cmdBoot, e.cmdSeq.Add(1))
		wait, err := e.sender.Send(e.ctx, dev, id, run.session, groupCommand, raw)
		if err != nil {
			continue
		}
		waits = append(waits, waiting{dev, wait})
	}
	if len(waits) == 0 {
		return
	}
	// The acks are awaited apart: a slow kiosk must not hold the next step
	// back from the others. A kiosk that refuses a step (it missed one) is
	// sent the whole tray.
	e.wg.Go(func() {
		ctx, cancel := context.WithTimeout(e.ctx, e.AckTimeout)
		defer cancel()
		for _, w := range waits {
			ok, reason, err := w.wait(ctx)
			if err == nil && !ok && p.step != nil {
				e.logger.Info("group tray: a kiosk refused a step; sending it the whole tray", "session", run.session, "device", w.device, "reason", reason)
				e.pushes.push(groupPush{run: run, device: w.device})
			}
		}
	})
}

// stateView is the whole tray now. Called with run.mu held.
func (run *groupRun) stateView() grouptray.View { return run.tray.View(run.spotlight) }

// stepView is a step with the turn, rules and phase after it. Called with
// run.mu held; the turn is the tray's now, which is the step's own or a
// later one's (the kiosk is sent that later step too).
func (run *groupRun) stepView(s grouptray.Step) grouptray.StepView {
	return grouptray.StepView{Step: s, Turn: run.tray.Turn(), Rules: run.tray.Rules(), Phase: run.tray.Phase()}
}

// Group tray controls (POST /v1/sessions/{id}/sandtray/group).
const (
	GroupStart     = "start"
	GroupSkip      = "skip"
	GroupShare     = "share"
	GroupClear     = "clear"
	GroupFree      = "rules:free"
	GroupTurns     = "rules:turns"
	GroupSpotlight = "spotlight"
)

// GroupControl is the counsellor's hand on a group session's shared
// tray: start it (rules turns or free; its members are those with a
// station of their own that shows a group tray, two to eight), skip the
// turn, switch the rules, clear the tray, end the silent build (share),
// or put one member's actions in the spotlight ("" for none). Every
// control is logged in the session; the kiosks are sent the tray.
func (e *Engine) GroupControl(ctx context.Context, by auth.User, id, control, arg string) (grouptray.View, error) {
	s, err := e.Get(ctx, id)
	if err != nil {
		return grouptray.View{}, err
	}
	if !s.Group() {
		return grouptray.View{}, waystation.Errorf(waystation.EINVALID, "session %s is not a group session", id)
	}
	if !s.State.Active() {
		return grouptray.View{}, waystation.Errorf(waystation.ECONFLICT, "session %s is %s; the group tray runs in an active session", id, s.State)
	}
	if control == GroupStart {
		return e.startGroupTray(ctx, by, s, grouptray.Rules(arg))
	}
	run := e.groupRunOf(ctx, id)
	if run == nil {
		return grouptray.View{}, waystation.Errorf(waystation.ECONFLICT, "session %s has no group tray yet (start it, or reach the plan's sandtray step)", id)
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	before := len(run.tray.Steps())
	var logged eventlog.Record
	switch control {
	case GroupSkip:
		if run.tray.Rules() != grouptray.Turns || run.tray.Phase() != grouptray.Build {
			return run.stateView(), waystation.Errorf(waystation.ECONFLICT, "there are no turns to skip (the rules are %s, the phase %s)", run.tray.Rules(), run.tray.Phase())
		}
		run.tray.Skip()
	case GroupShare:
		run.tray.Share()
	case GroupClear:
		run.tray.Clear()
	case GroupFree, GroupTurns:
		run.tray.SetRules(grouptray.Rules(control[len("rules:"):]))
	case GroupSpotlight:
		if arg != "" && !slices.Contains(run.tray.Order(), arg) {
			return run.stateView(), waystation.Errorf(waystation.EINVALID, "spotlight: %s is not a member of the group tray", arg)
		}
		if run.tray.Phase() != grouptray.Sharing && arg != "" {
			return run.stateView(), waystation.Errorf(waystation.ECONFLICT, "the spotlight is for the sharing round: end the silent build first (share)")
		}
		run.spotlight = arg
		logged = eventlog.Record{Stream: id, Source: source(by), Kind: "sandtray.group.spotlight", Data: mustJSON(map[string]string{"member": arg})}
	default:
		return run.stateView(), waystation.Errorf(waystation.EINVALID, "unknown group tray control %q (start, skip, share, clear, rules:free, rules:turns, spotlight)", control)
	}
	if steps := run.tray.Steps(); len(steps) > before {
		logged = eventlog.Record{Stream: id, Source: source(by), Kind: grouptray.KindControl, Data: grouptray.EventOf(steps[len(steps)-1]).Data}
	}
	if logged.Kind != "" {
		if _, err := e.log.Append(ctx, logged); err != nil {
			e.reloadGroupRun(run)
			return run.stateView(), err
		}
		e.pushes.push(groupPush{run: run})
	}
	return run.stateView(), nil
}

// startGroupTray starts a group session's shared tray (or, when one runs,
// sends it to the stations again): the members with a station of their
// own that shows it, the turn order drawn by lot from a seed kept in the
// log.
func (e *Engine) startGroupTray(ctx context.Context, by auth.User, s Session, rules grouptray.Rules) (grouptray.View, error) {
	if rules == "" {
		rules = grouptray.Turns
	}
	if rules != grouptray.Turns && rules != grouptray.Free {
		return grouptray.View{}, waystation.Errorf(waystation.EINVALID, "rules %q: turns or free", rules)
	}
	e.groupStart.Lock() // two tablets starting at once start one tray
	defer e.groupStart.Unlock()
	if run := e.groupRunOf(ctx, s.ID); run != nil {
		e.pushes.push(groupPush{run: run})
		run.mu.Lock()
		defer run.mu.Unlock()
		return run.stateView(), nil
	}
	var members []string
	taking := map[string]string{}
	for _, code := range s.Clients {
		dev, ok := s.Members[code]
		if ok && e.takes(ctx, dev, groupCommand) && len(members) < grouptray.MaxMembers {
			members = append(members, code)
			taking[dev] = code
		}
	}
	if len(members) < grouptray.MinMembers {
		return grouptray.View{}, waystation.Errorf(waystation.ECONFLICT, "a group tray needs %d to %d members with a kiosk of their own (assign stations with \"members\"); this session has %d", grouptray.MinMembers, grouptray.MaxMembers, len(members))
	}
	seed := rand.Uint64() >> 11 // a JSON number keeps it exactly
	t, err := grouptray.New(members, rules, seed)
	if err != nil {
		return grouptray.View{}, waystation.Errorf(waystation.EINVALID, "%v", err)
	}
	if _, err := e.log.Append(ctx, eventlog.Record{Stream: s.ID, Source: source(by), Kind: grouptray.KindStarted,
		Data: mustJSON(grouptray.Started{Members: members, Rules: rules, Seed: seed})}); err != nil {
		return grouptray.View{}, err
	}
	run := &groupRun{session: s.ID, tray: t, stations: s.Stations, members: taking, dseq: map[string]int64{}}
	e.mu.Lock()
	e.trays[s.ID] = run
	e.mu.Unlock()
	e.pushes.push(groupPush{run: run})
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.stateView(), nil
}

// GroupTray returns a session's group tray as it is now (nil when none
// runs).
func (e *Engine) GroupTray(ctx context.Context, id string) (*grouptray.View, error) {
	if _, err := e.Get(ctx, id); err != nil {
		return nil, err
	}
	run := e.groupRunOf(ctx, id)
	if run == nil {
		return nil, nil
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	v := run.stateView()
	return &v, nil
}

// takes reports whether a device's profile takes a command.
func (e *Engine) takes(ctx context.Context, device, name string) bool {
	if e.Profiles == nil {
		return false
	}
	d, err := e.registry.Get(ctx, device)
	if err != nil {
		return false
	}
	p, ok := e.Profiles().Get(d.ProfileID)
	return ok && p.Can(name)
}

// rejoinGroupTray sends a station that came back the group tray as it is
// now.
func (e *Engine) rejoinGroupTray(ctx context.Context, device, session string) {
	if !e.groupOf(ctx, session).group {
		return
	}
	if run := e.groupRunOf(ctx, session); run != nil {
		e.pushes.push(groupPush{run: run, device: device})
	}
}
