package sessions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"waystation/content/figures"
	"waystation/devices/capability"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/kiosk/drawing"
	"waystation/sessions/eventlog"
)

// Sender delivers commands to devices; the device transports implement it.
type Sender interface {
	// Check refuses a command the device cannot take now (offline, not in
	// its profile, bad arguments) and returns its arguments canonicalised.
	Check(deviceID, name string, args json.RawMessage) (json.RawMessage, error)
	// Send queues the command to the device and returns a wait for its
	// ack: ok, or the device's reason for refusing; err when no ack came
	// (timeout, disconnect).
	Send(ctx context.Context, deviceID, id, session, name string, args json.RawMessage) (wait func(context.Context) (ok bool, reason string, err error), err error)
}

// DefaultAckTimeout is how long a device has to acknowledge a command.
const DefaultAckTimeout = 10 * time.Second

// Engine runs sessions. It is the Router of device events into sessions.
type Engine struct {
	db       *sqlite.DB
	log      *eventlog.Log
	registry *registry.Registry
	sender   Sender
	logger   *slog.Logger
	// clock is the engine's time source; tests replace it while the alert
	// loop reads it, so it is swapped atomically.
	clock atomic.Pointer[func() time.Time]
	// AckTimeout is how long a device has to acknowledge a command.
	AckTimeout time.Duration
	// RequireConsent refuses to start a session whose client has no
	// consent on file for what it will record. The controller sets it.
	RequireConsent bool
	// Profiles returns the loaded profiles, to know what each station
	// records; nil counts only the plan's steps.
	Profiles func() *profile.Set
	// Scales are the measurement scales the site may give (set its Set).
	Scales *Scales
	// SandtrayWeapons shows the shelf's weapons on the kiosks: every
	// sandtray.open says so (whatever a sender put there is replaced).
	SandtrayWeapons bool
	// Clients are the client records (codes, risk, consent, follow-ups)
	// sessions are held for.
	Clients *Clients

	// ResonanceEpoch is how long the resonance finder paces each rate
	// (DefaultResonanceEpoch when 0).
	ResonanceEpoch time.Duration
	after          afterFunc // the finder's timer; tests replace it

	mu        sync.Mutex
	runs      map[string]stepRun // session -> its step's timed run
	closing   bool               // Close has begun
	finderSeq uint64
	stations  map[string]map[string]bool // session -> its stations; never changes once created
	active    map[string]string          // device -> the active session it is a station of

	// OnAlert, if set, is told of every alert raised, escalated or
	// acknowledged, after it is stored.
	OnAlert func(Alert)
	// OnSession, if set, is told of a session's new state after every
	// change that is stored: planned, a transition, a step.
	OnSession func(Session)
	alerts    queue[pendingAlert]
	forget    queue[string] // staff sessions' streams that logged after their end
	// forgotten holds the staff sessions ended here (stream -> struct{}):
	// written once each, read for every committed event, so a sync.Map
	// and not the engine's mutex.
	forgotten sync.Map
	scoring   queue[scaleDone] // finished self-checks to score
	stop      chan struct{}    // ends the alert loop
	// Thresholds raise alerts on readings; DefaultThresholds unless changed.
	Thresholds []Threshold
	over       map[overKey]*overState // guarded by mu
	risks      map[string]Risk        // session -> client risk; guarded by mu

	// stops counts the urgent commands (stop, pause) sent to each device;
	// a command that waited for the disk while one went is not sent after
	// it (see dispatch). sendMu orders each check with its send.
	stops  map[string]uint64
	sendMu sync.Mutex

	// groups caches each session's routing (group or not, its stations'
	// members); trays are the group trays held (nil: a session read and
	// found with none), pushes their updates for the kiosks, in order.
	groups     map[string]groupInfo
	trays      map[string]*groupRun
	pushes     queue[groupPush]
	groupStart sync.Mutex

	cmdSeq  atomic.Int64
	cmdBoot string
	ctx     context.Context // ends the ack waiters at Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// NewEngine returns an engine. Call Load before serving.
func NewEngine(db *sqlite.DB, log *eventlog.Log, reg *registry.Registry, sender Sender, logger *slog.Logger) *Engine {
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		db: db, log: log, registry: reg, sender: sender, logger: logger, AckTimeout: DefaultAckTimeout,
		stations: map[string]map[string]bool{}, active: map[string]string{}, stops: map[string]uint64{}, runs: map[string]stepRun{},
		cmdBoot: waystation.NewID(""), ctx: ctx, cancel: cancel,
		alerts: newQueue[pendingAlert](), scoring: newQueue[scaleDone](), forget: newQueue[string](), stop: make(chan struct{}),
		Thresholds: DefaultThresholds, over: map[overKey]*overState{}, risks: map[string]Risk{},
		groups: map[string]groupInfo{}, trays: map[string]*groupRun{}, pushes: newQueue[groupPush](),
	}
	e.setClock(time.Now)
	e.Clients = &Clients{db: db, now: e.now, onRisk: e.riskChanged}
	e.Scales = &Scales{db: db, now: e.now}
	return e
}

// now is the engine's current time.
func (e *Engine) now() time.Time { return (*e.clock.Load())() }

// setClock replaces the engine's time source.
func (e *Engine) setClock(f func() time.Time) { e.clock.Store(&f) }

// Close stops waiting for acks (commands still unacknowledged are logged as
// failed, with the reason that the controller stopped) and raises the alerts
// still queued.
func (e *Engine) Close() {
	e.mu.Lock()
	e.closing = true // step timers that fire from now on do nothing
	e.runs = map[string]stepRun{}
	e.mu.Unlock()
	e.cancel()
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	e.wg.Wait()
}

// Load marks sessions that were running when the controller stopped as
// interrupted, each with an event, and learns which stations are busy.
func (e *Engine) Load(ctx context.Context) error {
	rows, err := e.db.R.QueryContext(ctx, `SELECT id FROM sessions WHERE state = 'running'`)
	if err != nil {
		return fmt.Errorf("load sessions: %w", err)
	}
	var running []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		running = append(running, id)
	}
	rows.Close()
	for _, id := range running {
		_, err := e.log.AppendWith(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE sessions SET state = 'interrupted' WHERE id = ? AND state = 'running'`, id)
			return err
		}, eventlog.Record{Stream: id, Source: "system", Kind: "session.interrupted",
			Data: mustJSON(map[string]string{"from": string(Running), "to": string(Interrupted), "reason": "the controller restarted"})})
		if err != nil {
			return fmt.Errorf("mark session %s interrupted: %w", id, err)
		}
		e.logger.Warn("session was running when the controller stopped; now interrupted", "session", id)
	}
	rows, err = e.db.R.QueryContext(ctx, `SELECT st.device_id, s.id FROM sessions s JOIN session_stations st ON st.session_id = s.id
		WHERE s.state IN ('running', 'paused', 'interrupted')`)
	if err != nil {
		return fmt.Errorf("load stations: %w", err)
	}
	active := map[string]string{}
	for rows.Next() {
		var dev, sess string
		if err := rows.Scan(&dev, &sess); err != nil {
			rows.Close()
			return fmt.Errorf("load stations: %w", err)
		}
		active[dev] = sess
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	maps.Copy(e.active, active)
	e.mu.Unlock()
	// Alerts left open by a session that has ended since (an older
	// controller did not close them) would escalate for nobody.
	e.resolveAlerts(ctx, `a.session_id IN (SELECT id FROM sessions WHERE state IN ('ended', 'aborted'))`, nil, ResolvedSessionEnded)
	e.wg.Go(func() { e.runAlerts(e.stop) })
	e.wg.Go(func() { drain(e.stop, &e.scoring, e.scoreOne) })
	e.wg.Go(func() { drain(e.stop, &e.forget, e.forgetOne) })
	e.wg.Go(func() { drain(e.stop, &e.pushes, e.pushOne) })
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with plain maps and structs
	}
	return b
}

func source(u auth.User) string {
	if u.ID == "" {
		return "system"
	}
	return "user:" + u.ID
}

// NewSession is what a counsellor gives to plan a session.
type NewSession struct {
	Room   string `json:"room"`
	Client string `json:"client"`
	// Clients make a group session of 2 to 12 members, instead of Client.
	Clients []string `json:"clients,omitempty"`
	// Members assigns each of some members a station of the session
	// (member code -> device id); the rest share the stations.
	Members  map[string]string `json:"members,omitempty"`
	Stations []string          `json:"stations"`
	Plan     json.RawMessage   `json:"plan"`
	// Staff makes a staff self-care session: no client code, no consent,
	// and at its end nothing kept but counts (see forgetStaff).
	Staff bool `json:"staff,omitempty"`
	// DryRun checks the session and returns it as it would be planned,
	// storing nothing and asking no consent (the console asks a group's
	// missing consents before it plans the group).
	DryRun bool `json:"-"`
}

// Create plans a session.
func (e *Engine) Create(ctx context.Context, by auth.User, ns NewSession) (Session, error) {
	room, err := e.registry.FindRoom(ctx, ns.Room)
	if err != nil {
		return Session{}, err
	}
	switch {
	case ns.Staff && ns.Client != "":
		return Session{}, waystation.Errorf(waystation.EINVALID, "a staff session has no client code: nothing of the person is kept")
	case !ns.Staff && ns.Client == StaffCode:
		return Session{}, waystation.Errorf(waystation.EINVALID, "client code %s is kept for staff sessions (give \"staff\": true)", StaffCode)
	}
	// The staff pseudo-client is stored with the session, in its
	// transaction: a refused staff session stores nothing.
	if len(ns.Members) > 0 && len(ns.Clients) == 0 {
		return Session{}, waystation.Errorf(waystation.EINVALID, "members assign stations to a group's clients: give \"clients\" too")
	}
	client := staffClient
	if len(ns.Clients) > 0 {
		client = Client{Code: GroupCode}
	} else if !ns.Staff {
		if client, err = e.Clients.GetClient(ctx, ns.Client); err != nil {
			return Session{}, err
		}
	}
	plan, err := DecodePlan(ns.Plan)
	if err != nil {
		return Session{}, err
	}
	for i, st := range plan.Steps {
		if st.Kind == StepScale {
			if _, err := e.Scales.Usable(ctx, st.Scale); err != nil {
				return Session{}, waystation.Errorf(waystation.ErrorCode(err), "plan step %d (scale): %s", i+1, waystation.ErrorMessage(err))
			}
		}
	}
	if len(ns.Stations) == 0 || len(ns.Stations) > 16 {
		return Session{}, waystation.Errorf(waystation.EINVALID, "a session needs 1 to 16 stations (device ids), got %d", len(ns.Stations))
	}
	var stations []string
	seen := map[string]bool{}
	for _, ref := range ns.Stations {
		d, err := e.registry.Get(ctx, ref)
		if err != nil {
			return Session{}, err
		}
		if seen[d.ID] {
			return Session{}, waystation.Errorf(waystation.EINVALID, "station %s is listed twice", d.ID)
		}
		seen[d.ID] = true
		stations = append(stations, d.ID)
	}
	s := Session{
		ID: waystation.NewID("s-"), RoomID: room.ID, Room: room.Name, Client: client.Code, Risk: client.Risk,
		CounsellorID: by.ID, Counsellor: by.Name, Stations: stations, Plan: plan, State: Planned, Created: e.now().UTC(),
	}
	planned := map[string]any{"room": room.Name, "client": client.Code, "risk": client.Risk, "stations": stations, "plan": plan}
	if client.Code == GroupCode {
		if s.Clients, s.Members, s.Risk, err = e.group(ctx, ns, stations); err != nil {
			return Session{}, err
		}
		if e.RequireConsent && !ns.DryRun { // a member without consent is not added
			if err := e.groupConsent(ctx, s); err != nil {
				return Session{}, err
			}
		}
		planned = map[string]any{"room": room.Name, "clients": s.Clients, "members": s.Members, "risk": s.Risk, "stations": stations, "plan": plan}
	}
	if ns.DryRun {
		s.ID = ""
		if s.Group() {
			s.Client = ""
		}
		return s, nil
	}
	planJSON := mustJSON(plan)
	_, err = e.log.AppendWith(ctx, func(tx *sql.Tx) error {
		if s.Group() { // the pseudo-client first: the session refers to it
			if err := addGroupClient(tx, by, s.Created); err != nil {
				return err
			}
		}
		if ns.Staff {
			if err := addStaffClient(tx, by, s.Created); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`INSERT INTO sessions (id, room_id, client_code, counsellor_id, plan, state, created) VALUES (?, ?, ?, ?, ?, 'planned', ?)`,
			s.ID, s.RoomID, s.Client, s.CounsellorID, string(planJSON), sqlite.FormatTime(s.Created))
		if err != nil {
			return err
		}
		for _, d := range stations {
			if _, err := tx.Exec(`INSERT INTO session_stations (session_id, device_id) VALUES (?, ?)`, s.ID, d); err != nil {
				return err
			}
		}
		if s.Group() {
			return storeMembers(tx, s)
		}
		return nil
	}, eventlog.Record{Stream: s.ID, Source: source(by), Kind: "session.planned", Data: mustJSON(planned)})
	if err != nil {
		return Session{}, err
	}
	if s.Group() {
		s.Client = ""
	}
	e.mu.Lock()
	e.stations[s.ID] = seen
	e.mu.Unlock()
	e.changed(s)
	return s, nil
}

// changed tells OnSession of a session's new state.
func (e *Engine) changed(s Session) {
	if e.OnSession != nil {
		e.OnSession(s)
	}
}

// reload reads a session after a stored change and tells OnSession.
func (e *Engine) reload(ctx context.Context, id string) (Session, error) {
	s, err := e.Get(context.WithoutCancel(ctx), id)
	if err == nil {
		e.changed(s)
	}
	return s, err
}

const sessionColumns = `s.id, s.room_id, r.name, s.client_code, c.risk, s.counsellor_id, u.name, s.plan, s.step, s.state, s.created, s.started, s.ended
	FROM sessions s JOIN rooms r ON r.id = s.room_id JOIN clients c ON c.code = s.client_code JOIN users u ON u.id = s.counsellor_id`

func (e *Engine) scan(ctx context.Context, sc interface{ Scan(...any) error }) (Session, error) {
	var s Session
	var risk, plan, state string
	if err := sc.Scan(&s.ID, &s.RoomID, &s.Room, &s.Client, &risk, &s.CounsellorID, &s.Counsellor, &plan, &s.Step, &state, sqlite.ScanTime(&s.Created), sqlite.ScanNullTime(&s.Started), sqlite.ScanNullTime(&s.Ended)); err != nil {
		return s, err
	}
	s.Risk, s.State = Risk(risk), State(state)
	json.Unmarshal([]byte(plan), &s.Plan)
	return s, e.loadMembers(ctx, &s)
}

// Get returns a session with its stations.
func (e *Engine) Get(ctx context.Context, id string) (Session, error) {
	s, err := e.scan(ctx, e.db.R.QueryRowContext(ctx, `SELECT `+sessionColumns+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, waystation.Errorf(waystation.ENOTFOUND, "unknown session %q", id)
	}
	if err != nil {
		return s, fmt.Errorf("get session %s: %w", id, err)
	}
	st, err := e.stationsOf(ctx, id)
	if err != nil {
		return s, err
	}
	for d := range st {
		s.Stations = append(s.Stations, d)
	}
	slices.Sort(s.Stations)
	return s, nil
}

// List returns sessions, newest first, optionally only those in one state.
func (e *Engine) List(ctx context.Context, state string, limit int) ([]Session, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	if state == "" {
		return e.query(ctx, `ORDER BY s.created DESC LIMIT ?`, limit)
	}
	switch State(state) {
	case Planned, Running, Paused, Ended, Aborted, Interrupted:
	default:
		return nil, waystation.Errorf(waystation.EINVALID, "unknown state %q (planned, running, paused, ended, aborted, interrupted)", state)
	}
	return e.query(ctx, `WHERE s.state = ? ORDER BY s.created DESC LIMIT ?`, state, limit)
}

// InRoom returns a room's sessions that have not ended or been aborted
// (planned, running, paused, interrupted), oldest first.
func (e *Engine) InRoom(ctx context.Context, roomID string) ([]Session, error) {
	return e.query(ctx, `WHERE s.room_id = ? AND s.state NOT IN ('ended', 'aborted') ORDER BY s.created`, roomID)
}

// query reads sessions with their stations; tail is the WHERE/ORDER part.
func (e *Engine) query(ctx context.Context, tail string, args ...any) ([]Session, error) {
	rows, err := e.db.R.QueryContext(ctx, `SELECT `+sessionColumns+` `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		s, err := e.scan(ctx, rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		st, err := e.stationsOf(ctx, out[i].ID)
		if err != nil {
			return nil, err
		}
		for d := range st {
			out[i].Stations = append(out[i].Stations, d)
		}
		slices.Sort(out[i].Stations)
	}
	return out, nil
}

// stationsOf returns a session's stations, from the cache when it can: they
// never change once the session exists.
func (e *Engine) stationsOf(ctx context.Context, id string) (map[string]bool, error) {
	e.mu.Lock()
	st, ok := e.stations[id]
	e.mu.Unlock()
	if ok {
		return st, nil
	}
	rows, err := e.db.R.QueryContext(ctx, `SELECT device_id FROM session_stations WHERE session_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("stations of %s: %w", id, err)
	}
	defer rows.Close()
	st = map[string]bool{}
	for rows.Next() {
		var d string
		rows.Scan(&d)
		st[d] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(st) > 0 {
		e.mu.Lock()
		e.stations[id] = st
		e.mu.Unlock()
	}
	return st, nil
}

// transition is one allowed move of the state machine.
type transition struct {
	from []State
	to   State
	kind string
}

var transitions = map[string]transition{
	"start":  {[]State{Planned}, Running, "session.started"},
	"pause":  {[]State{Running}, Paused, "session.paused"},
	"resume": {[]State{Paused, Interrupted}, Running, "session.resumed"},
	"end":    {[]State{Running, Paused, Interrupted}, Ended, "session.ended"},
	"abort":  {[]State{Planned, Running, Paused, Interrupted}, Aborted, "session.aborted"},
}

// Transition moves a session through its state machine: start, pause,
// resume, end or abort. An illegal move is an ECONFLICT error naming the
// state, and changes nothing.
func (e *Engine) Transition(ctx context.Context, by auth.User, id, action string) (Session, error) {
	tr, ok := transitions[action]
	if !ok {
		return Session{}, waystation.Errorf(waystation.ENOTFOUND, "unknown action %q (start, pause, resume, end, abort)", action)
	}
	s, err := e.Get(ctx, id)
	if err != nil {
		return s, err
	}
	if action == "start" && e.RequireConsent && s.Group() {
		if err := e.groupConsent(ctx, s); err != nil {
			return s, err
		}
	} else if action == "start" && e.RequireConsent && s.Client != StaffCode {
		_, missing, err := e.ConsentFor(ctx, s)
		if err != nil {
			return s, err
		}
		if len(missing) > 0 {
			return s, waystation.Errorf(waystation.ECONFLICT, "client %s has no consent on file for what this session records: %s (record it with POST /v1/clients/%s/consents)",
				s.Client, strings.Join(missing, ", "), s.Client)
		}
	}
	var from State
	now := e.now().UTC()
	_, err = e.log.AppendWith(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRow(`SELECT state FROM sessions WHERE id = ?`, id).Scan(&from); err != nil {
			return err
		}
		allowed := false
		for _, f := range tr.from {
			allowed = allowed || f == from
		}
		if !allowed {
			return waystation.Errorf(waystation.ECONFLICT, "cannot %s session %s: it is %s", action, id, from)
		}
		if tr.to == Running {
			if err := e.checkStations(tx, id); err != nil {
				return err
			}
		}
		switch {
		case action == "start":
			_, err = tx.Exec(`UPDATE sessions SET state = ?, started = ? WHERE id = ?`, string(tr.to), sqlite.FormatTime(now), id)
		case tr.to == Ended || tr.to == Aborted:
			_, err = tx.Exec(`UPDATE sessions SET state = ?, ended = ? WHERE id = ?`, string(tr.to), sqlite.FormatTime(now), id)
		default:
			_, err = tx.Exec(`UPDATE sessions SET state = ? WHERE id = ?`, string(tr.to), id)
		}
		return err
	}, eventlog.Record{Stream: id, Source: source(by), Kind: tr.kind, Data: mustJSON(map[string]string{"to": string(tr.to)})})
	if err != nil {
		return s, err
	}
	e.mu.Lock()
	if !tr.to.Active() {
		delete(e.trays, id) // read back from the log should it be asked for
	}
	for _, d := range s.Stations {
		if tr.to.Active() {
			e.active[d] = id
		} else if e.active[d] == id {
			delete(e.active, d)
		}
	}
	e.mu.Unlock()
	s, err = e.reload(ctx, id)
	if err == nil && !s.State.Active() && s.State != Planned && s.Client == StaffCode {
		if ferr := e.forgetStaff(ctx, s); ferr != nil {
			e.logger.Error("staff session not turned into counts", "session", s.ID, "err", ferr)
		}
	}
	switch {
	case err != nil:
	case action == "start":
		e.tellStations(ctx, by, s, "session.start", mustJSON(map[string]any{"lang": s.Plan.Lang}))
		e.startStep(ctx, by, s)
	case !s.State.Active():
		e.tellStations(ctx, by, s, "session.end", nil)
	}
	if err == nil && s.State != Running {
		e.endRun(context.WithoutCancel(ctx), id, "the session is "+string(s.State))
	}
	if err == nil && !s.State.Active() && s.State != Planned {
		e.resolveAlerts(context.WithoutCancel(ctx), `a.session_id = ?`, []any{id}, ResolvedSessionEnded)
	}
	if err == nil && !s.State.Active() && s.State != Planned {
		// The assessment is kept with the session as it ended; should this
		// fail, it is stored the first time it is asked for.
		if err := e.storeAssessment(ctx, s); err != nil {
			e.logger.Error("store assessment", "session", id, "err", err)
		}
	}
	return s, err
}

// tellStations sends a command of the whole session (session.start,
// session.end) to every station whose profile takes it, logged like any
// command. A station that cannot take it now (offline, or not in its
// profile) is left out: a kiosk clears itself after an idle timeout.
func (e *Engine) tellStations(ctx context.Context, by auth.User, s Session, name string, args json.RawMessage) {
	ctx = context.WithoutCancel(ctx)
	for _, dev := range s.Stations {
		if _, err := e.sendIfTaken(ctx, by, s.ID, dev, name, args); err != nil {
			e.logger.Warn("tell station", "session", s.ID, "device", dev, "command", name, "err", err)
		}
	}
}

// sendIfTaken sends a command the session gives of itself (not a
// counsellor's steering: its start and end, a plan step, a rejoin) to a
// station whose profile takes it, checked, logged and sent like any
// command. taken is false, and nothing is sent, when the profile does not
// take it with these arguments.
func (e *Engine) sendIfTaken(ctx context.Context, by auth.User, session, device, name string, args json.RawMessage) (taken bool, err error) {
	checked, err := e.sender.Check(device, name, args)
	if err != nil {
		return false, nil
	}
	if checked, err = e.fillIn(ctx, name, checked); err != nil {
		return true, err
	}
	_, err = e.dispatch(ctx, by, session, device, name, checked, nil, nil)
	return true, err
}

// checkStations refuses to run a session whose station reports firmware
// outside its profile's range, or is busy in another active session.
func (e *Engine) checkStations(tx *sql.Tx, id string) error {
	rows, err := tx.Query(`SELECT st.device_id, d.name, COALESCE(ds.firmware, ''), ds.firmware_ok, COALESCE(ds.firmware_note, ''), d.removed IS NOT NULL,
			(SELECT o.id FROM session_stations ost JOIN sessions o ON o.id = ost.session_id
			 WHERE ost.device_id = st.device_id AND o.id != st.session_id AND o.state IN ('running', 'paused', 'interrupted') LIMIT 1)
		FROM session_stations st JOIN devices d ON d.id = st.device_id LEFT JOIN device_status ds ON ds.device_id = st.device_id
		WHERE st.session_id = ?`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var dev, name, fw, note string
		var fwOK sql.NullBool
		var removed bool
		var busy sql.NullString
		if err := rows.Scan(&dev, &name, &fw, &fwOK, &note, &removed, &busy); err != nil {
			return err
		}
		switch {
		case removed:
			return waystation.Errorf(waystation.ECONFLICT, "station %s (%s) has been removed from the registry", dev, name)
		case fwOK.Valid && !fwOK.Bool:
			return waystation.Errorf(waystation.ECONFLICT, "station %s (%s): %s; update the device or its profile before starting", dev, name, note)
		case busy.Valid:
			return waystation.Errorf(waystation.ECONFLICT, "station %s (%s) is in session %s, which is still open", dev, name, busy.String)
		}
	}
	return rows.Err()
}

// CommandResult says a command was accepted and sent.
type CommandResult struct {
	ID  string `json:"command"`
	Seq int64  `json:"seq"` // of its command.sent event
}

// Command steers a station: it is checked against the device's profile and
// the command's schema, logged as command.sent, and sent; the device's ack
// is logged as command.acked or command.failed when it comes. A command that
// changes the level of the current VR step is also logged as level.started,
// and refused while the level before it waits for the client's rating
// (see Level for the counsellor's override).
func (e *Engine) Command(ctx context.Context, by auth.User, id, device, name string, args json.RawMessage) (CommandResult, error) {
	return e.command(ctx, by, id, device, name, args, nil)
}

func (e *Engine) command(ctx context.Context, by auth.User, id, device, name string, args json.RawMessage, ov *override) (CommandResult, error) {
	s, err := e.Get(ctx, id)
	if err != nil {
		return CommandResult{}, err
	}
	if s.State != Running && s.State != Paused {
		return CommandResult{}, waystation.Errorf(waystation.ECONFLICT, "session %s is %s; commands need a running or paused session", id, s.State)
	}
	st, err := e.stationsOf(ctx, id)
	if err != nil {
		return CommandResult{}, err
	}
	if !st[device] {
		return CommandResult{}, waystation.Errorf(waystation.ENOTFOUND, "device %q is not a station of session %s", device, id)
	}
	args, err = e.sender.Check(device, name, args)
	if err != nil {
		return CommandResult{}, err
	}
	if args, err = e.fillIn(ctx, name, args); err != nil {
		return CommandResult{}, err
	}
	started, overrode, err := e.levelChange(ctx, by, s, device, name, args, ov)
	if err != nil {
		return CommandResult{}, err
	}
	return e.dispatch(ctx, by, id, device, name, args, overrode, started)
}

// dispatch logs a checked command as command.sent (after a level override,
// before the level it starts) and sends it; its ack or failure is logged
// when it comes.
func (e *Engine) dispatch(ctx context.Context, by auth.User, id, device, name string, args json.RawMessage, overrode, started map[string]any) (CommandResult, error) {
	cmdID := fmt.Sprintf("c-%s-%d", e.cmdBoot, e.cmdSeq.Add(1))
	var recs []eventlog.Record
	if overrode != nil {
		recs = append(recs, eventlog.Record{Stream: id, Source: source(by), Kind: KindLevelOverride, Data: mustJSON(overrode)})
	}
	sent := len(recs)
	recs = append(recs, eventlog.Record{Stream: id, Source: source(by), Kind: "command.sent",
		Data: mustJSON(map[string]any{"command": cmdID, "device": device, "name": name, "args": args})})
	if started != nil {
		started["command"] = cmdID
		recs = append(recs, eventlog.Record{Stream: id, Source: source(by), Kind: KindLevelStarted, Data: mustJSON(started)})
	}
	var wait func(context.Context) (bool, string, error)
	var sendErr error
	urgent := capability.Urgent(name)
	e.sendMu.Lock()
	stops := e.stops[device]
	if urgent {
		// A stop goes to the device at once, ahead of whatever waits for
		// the disk; it is logged right after.
		e.stops[device]++
		wait, sendErr = e.sender.Send(ctx, device, cmdID, id, name, args)
	}
	e.sendMu.Unlock()
	res, err := e.log.Append(ctx, recs...)
	if err != nil {
		if wait != nil {
			return CommandResult{}, fmt.Errorf("%s reached the device but could not be logged: %w", name, err)
		}
		return CommandResult{}, err
	}
	if !urgent {
		// A command that waited for the disk while a stop or pause went to
		// the same device is not sent after it: a program launched after
		// the counsellor's stop would run on.
		e.sendMu.Lock()
		superseded := e.stops[device] != stops
		if !superseded {
			wait, sendErr = e.sender.Send(ctx, device, cmdID, id, name, args)
		}
		e.sendMu.Unlock()
		if superseded {
			err := waystation.Errorf(waystation.ECONFLICT, "%s was not sent: a stop or pause went to the device while it waited to be logged", name)
			e.logOutcome(id, device, cmdID, name, false, waystation.ErrorMessage(err))
			return CommandResult{}, err
		}
	}
	if sendErr != nil {
		e.logOutcome(id, device, cmdID, name, false, waystation.ErrorMessage(sendErr))
		return CommandResult{}, sendErr
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		wctx, cancel := context.WithTimeout(e.ctx, e.AckTimeout)
		defer cancel()
		ok, reason, err := wait(wctx)
		if err != nil {
			reason = waystation.ErrorMessage(err)
			if e.ctx.Err() != nil {
				reason = "the controller stopped before the device acknowledged"
			}
		}
		e.logOutcome(id, device, cmdID, name, ok && err == nil, reason)
	}()
	return CommandResult{ID: cmdID, Seq: res[sent].Event.Seq}, nil
}

// logOutcome records a command's ack or failure.
func (e *Engine) logOutcome(session, device, cmdID, name string, ok bool, reason string) {
	kind, data := "command.acked", map[string]any{"command": cmdID, "device": device, "name": name}
	switch {
	case !ok:
		kind = "command.failed"
		data["error"] = reason
	case reason != "":
		data["note"] = reason // a transport without acks says so
	}
	_, err := e.log.Append(context.Background(), eventlog.Record{Stream: session, Source: "device:" + device, Kind: kind, Data: mustJSON(data)})
	if err != nil {
		e.logger.Error("record command outcome", "session", session, "command", cmdID, "err", err)
	}
}

// MaxNote bounds a counsellor's note.
const MaxNote = 4000

// Note adds a counsellor's note to a session.
func (e *Engine) Note(ctx context.Context, by auth.User, id, text string) (waystation.Event, error) {
	return e.NoteFor(ctx, by, id, text, "")
}

// NoteFor adds a counsellor's note to a session; in a group session, about
// one member (it reaches their e-file, and no one else's) or, member
// empty, the group's.
func (e *Engine) NoteFor(ctx context.Context, by auth.User, id, text, member string) (waystation.Event, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return waystation.Event{}, waystation.Errorf(waystation.EINVALID, "the note is empty")
	}
	if len([]rune(text)) > MaxNote {
		return waystation.Event{}, waystation.Errorf(waystation.EINVALID, "the note is longer than %d characters", MaxNote)
	}
	s, err := e.Get(ctx, id)
	if err != nil {
		return waystation.Event{}, err
	}
	data := map[string]string{"text": text, "by": by.Name}
	switch {
	case member != "" && !s.Group():
		return waystation.Event{}, waystation.Errorf(waystation.EINVALID, "member is for a group session's notes; session %s is %s's", id, s.Client)
	case member != "":
		i := slices.IndexFunc(s.Clients, func(c string) bool { return strings.EqualFold(c, member) })
		if i < 0 {
			return waystation.Event{}, waystation.Errorf(waystation.EINVALID, "%s is not a member of this group (%s)", member, strings.Join(s.Clients, ", "))
		}
		data["member"] = s.Clients[i]
	}
	res, err := e.log.Append(ctx, eventlog.Record{Stream: id, Source: source(by), Kind: "note.added", Data: mustJSON(data)})
	if err != nil {
		return waystation.Event{}, err
	}
	return res[0].Event, nil
}

// AnyStep is the from of a Step that does not say which step it moves
// from.
const AnyStep = -1

// Step moves through the plan: next, skip, repeat, or goto an index, from
// the step the caller saw (AnyStep: whichever is current). Two tablets
// pressing Next at once move the plan once: the second is told the plan
// has moved on. The step the plan arrives at starts what it names on the
// stations that can play it (see startStep), each a logged command.
func (e *Engine) Step(ctx context.Context, by auth.User, id, action string, index, from int) (Session, error) {
	s, err := e.Get(ctx, id)
	if err != nil {
		return s, err
	}
	if s.State != Running && s.State != Paused {
		return s, waystation.Errorf(waystation.ECONFLICT, "session %s is %s; steps change in a running or paused session", id, s.State)
	}
	if from != AnyStep && from != s.Step {
		return s, waystation.Errorf(waystation.ECONFLICT, "the plan is already at step %d (it was moved meanwhile, perhaps from another tablet)", s.Step+1)
	}
	n := len(s.Plan.Steps)
	to := s.Step
	switch action {
	case "next", "skip":
		to++
	case "repeat":
	case "goto":
		to = index
	default:
		return s, waystation.Errorf(waystation.EINVALID, "unknown step action %q (next, skip, repeat, goto)", action)
	}
	if to < 0 || to >= n {
		return s, waystation.Errorf(waystation.EINVALID, "step %d is outside the plan (it has %d steps)", to+1, n)
	}
	from = s.Step
	_, err = e.log.AppendWith(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE sessions SET step = ? WHERE id = ? AND step = ?`, to, id, from)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return waystation.Errorf(waystation.ECONFLICT, "the plan moved on meanwhile; reload and try again")
		}
		return nil
	}, eventlog.Record{Stream: id, Source: source(by), Kind: "plan.step",
		Data: mustJSON(map[string]any{"action": action, "from": from, "to": to, "step": s.Plan.Steps[to]})})
	if err != nil {
		return s, err
	}
	s, err = e.reload(ctx, id)
	if err == nil && s.State == Running {
		e.startStep(ctx, by, s)
	}
	return s, err
}

// Events returns a page of a session's events after seq.
func (e *Engine) Events(ctx context.Context, id string, after int64, limit int) ([]waystation.Event, error) {
	if _, err := e.Get(ctx, id); err != nil {
		return nil, err
	}
	return e.log.Read(ctx, id, after, limit)
}

// Route implements the device transports' Router: an event naming a session
// goes to that session's stream if the device is one of its stations; any
// other event goes to the device's own log.
func (e *Engine) Route(ctx context.Context, d waystation.Device, session string) (string, error) {
	if session == "" {
		return d.ID, nil
	}
	st, err := e.stationsOf(ctx, session)
	if err != nil {
		return "", err
	}
	if len(st) == 0 {
		return "", waystation.Errorf(waystation.ENOTFOUND, "unknown session %q", session)
	}
	if !st[d.ID] {
		return "", waystation.Errorf(waystation.EFORBIDDEN, "device %s is not a station of session %s", d.ID, session)
	}
	return session, nil
}

// CurrentStream implements the Router: readings go to the active session
// the device is a station of, else to the device's own log.
func (e *Engine) CurrentStream(d waystation.Device) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.active[d.ID]; ok {
		return s
	}
	return d.ID
}

// ActiveSession returns the active session a device is a station of.
func (e *Engine) ActiveSession(deviceID string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.active[deviceID]
	return s, ok
}

// fillIn completes a checked command with what only the controller knows:
// a self-check's form (the kiosk never needs the scale's file), refused
// for a scale that may not be given here.
func (e *Engine) fillIn(ctx context.Context, name string, args json.RawMessage) (json.RawMessage, error) {
	switch name {
	case "sandtray.open":
		if e.SandtrayWeapons {
			return mustJSON(map[string]any{"weapons": true}), nil
		}
		return mustJSON(map[string]any{}), nil
	case "sandtray.suggest": // a figure of the library, by its own id
		var a struct {
			Figure string `json:"figure"`
		}
		json.Unmarshal(args, &a)
		f, ok := figures.ByID(a.Figure)
		if !ok {
			return nil, waystation.Errorf(waystation.EINVALID, "no figure %q on the shelf", a.Figure)
		}
		if f.Category == "weapons" && !e.SandtrayWeapons {
			return nil, waystation.Errorf(waystation.EINVALID, "figure %s is a weapon, and this site does not show weapons (serve --sandtray-weapons)", f.ID)
		}
		return mustJSON(map[string]any{"figure": f.ID}), nil
	}
	if name == "drawing.open" { // a template the kiosk has, or refused here
		var a struct {
			Template string `json:"template"`
		}
		json.Unmarshal(args, &a)
		if err := drawing.CheckTemplate(a.Template); err != nil {
			return nil, waystation.Errorf(waystation.EINVALID, "%v", err)
		}
		return args, nil
	}
	if name != "scale.start" {
		return args, nil
	}
	var a struct {
		Scale string `json:"scale"`
	}
	json.Unmarshal(args, &a) // checked: scale is a required string
	sc, err := e.Scales.Usable(ctx, a.Scale)
	if err != nil {
		return nil, err
	}
	return mustJSON(map[string]any{"scale": sc.ID, "form": sc.Form()}), nil
}
