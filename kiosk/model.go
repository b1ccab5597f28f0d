package kiosk

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"waystation/content"
	"waystation/content/figures"
	"waystation/devices/wire"
	"waystation/kiosk/drawing"
	"waystation/kiosk/sandtray"
	"waystation/kiosk/sandtray/groupview"
)

// Screen is what the kiosk shows.
type Screen string

// Screens of the kiosk.
const (
	Attract  Screen = "attract"  // between clients: a calm welcome
	CheckIn  Screen = "checkin"  // distress 0-10 and a mood, at session start
	Waiting  Screen = "waiting"  // checked in; the counsellor chooses what comes
	Scene    Screen = "scene"    // a relaxation scene, maybe with the breathing pacer or a guide
	Sandtray Screen = "sandtray" // the digital sandtray
	Rating   Screen = "rating"   // a question from the counsellor
	// SelfCheckScreen is a measurement scale, one item a screen.
	SelfCheckScreen Screen = "selfcheck"
	CheckOut        Screen = "checkout" // distress and mood again, at session end
	Goodbye         Screen = "goodbye"  // thanks; cleared a moment later
)

// Moods offered at check-in and check-out.
var Moods = []string{"calm", "sad", "anxious", "angry", "tired", "okay"}

// Guides are the guided texts a scene can show.
var Guides = []string{"none", "pmr", "grounding"}

// Feedbacks are the biofeedback looks of a scene (scene.set feedback):
// the heart's coherence band low, medium or high, "none" while the signal
// is missing (the look holds and a calm line says so), "off" to end it.
var Feedbacks = []string{"low", "medium", "high", "none", "off"}

// Breathing paces the breathing guide.
type Breathing struct {
	BPM    float64 `json:"bpm"`
	Inhale float64 `json:"inhale_ratio"` // share of each breath spent breathing in
	Hold   float64 `json:"hold_s"`       // pause after breathing in
	// Start is when the current pace began: the breath's phase counts from it.
	Start time.Time `json:"-"`
}

// Phase returns where in the breath the pacer is at t: "in", "hold" or
// "out", and how far through that part (0-1).
func (b Breathing) Phase(t time.Time) (string, float64) {
	if b.BPM <= 0 {
		return "", 0
	}
	period := 60 / b.BPM
	in := period * b.Inhale
	hold := min(b.Hold, period-in)
	out := period - in - hold
	p := t.Sub(b.Start).Seconds()
	p -= period * float64(int(p/period))
	switch {
	case p < in:
		return "in", p / in
	case p < in+hold:
		return "hold", (p - in) / hold
	default:
		return "out", (p - in - hold) / out
	}
}

// Prompt is a rating the counsellor asks for.
type Prompt struct {
	Text     string
	Min, Max int
	// Back is the screen to return to once answered.
	Back Screen
}

// Emit records an event of the client: cmd/kiosk sends it through the
// journal and link. An error means it could not be kept.
type Emit func(session, kind string, data any) error

// State is a copy of the model for drawing.
type State struct {
	Screen  Screen
	Lang    string
	Session string
	Scene   string
	Guide   string
	Bright  float64 // scene brightness 0-1
	Motion  float64 // scene motion 0-1
	// Feedback is the scene's biofeedback band ("" when off), Look the
	// band it shows (a missing signal, "none", keeps the last look), and
	// LookFrom and LookAt the look before and when it changed, to fade.
	Feedback  string
	Look      string
	LookFrom  string
	LookAt    time.Time
	Breathing Breathing
	Prompt    Prompt
	// Check is the self-check under way on SelfCheckScreen (a copy).
	Check *SelfCheck
	Tray  *sandtray.Tray // a copy
	// Group is the group tray this kiosk shows, in a group session's
	// shared sandtray (nil otherwise); Tray is then its tray.
	Group *GroupView
	// Suggested are figures the counsellor put on the shelf for this
	// client (newest first); Weapons says the site shows its weapons.
	Suggested []string
	Weapons   bool
	// HelpAt is when the client last pressed the help button (zero: not
	// pressed); HelpOffline says the controller was unreachable then.
	HelpAt      time.Time
	HelpOffline bool
	Online      bool
	// IdentifyUntil is set while a technician's identify shows.
	IdentifyUntil time.Time
	// Generation counts clears: a drawing cache keyed on it never shows
	// one client's things to the next.
	Generation int
	// DrawTemplate is the drawing screen's template; DrawRev changes with
	// every change of the drawing (DrawItems reads it); DrawMarks are the
	// HTP elements marked done, in order.
	DrawTemplate string
	DrawRev      int
	DrawMarks    []string
}

// GroupView is the group tray as the screen shows it (a copy): who this
// kiosk's member is (You), the turn order drawn and whose turn it is, the
// rules and the phase, each figure's member, the member sharing now and
// their actions; Notice is what the kiosk last told its member (a key of
// the screen's words, or the controller's own words), at NoticeAt.
type GroupView struct {
	You, Turn      string
	Order          []string
	Rules, Phase   string
	MyTurn         bool
	Authors        map[int]string
	Spotlight      string
	SpotlightSteps []groupview.Step
	Notice         string
	NoticeAt       time.Time
}

// Notices a group tray shows its member.
const (
	NoticeNotYourTurn   = "group.notyourturn"
	NoticeNotYourFigure = "group.notyourfigure"
	NoticeSharing       = "group.sharing"
	NoticeNotMember     = "group.notmember"
	NoticeCounsellor    = "group.counsellor"
)

// MaxSuggested is how many suggested figures the shelf keeps.
const MaxSuggested = 16

// Model is the kiosk's state. It is safe for concurrent use: the link's
// goroutine applies commands while the game loop draws and takes input.
type Model struct {
	// DefaultLang is the language when a session does not choose one.
	DefaultLang string
	// Idle is how long without a touch or a command before the kiosk
	// clears everything and returns to the attract screen.
	Idle time.Duration
	// Snapshot, if set, returns a PNG of the tray as the client left it;
	// it is sent at session end when the tray was used.
	Snapshot func(*sandtray.Tray) ([]byte, error)
	// Logf reports what could not be recorded.
	Logf func(format string, args ...any)

	emit Emit
	now  func() time.Time

	mu         sync.Mutex
	st         State
	lastActive time.Time
	goodbyeAt  time.Time
	sceneEnd   time.Time
	trayUsed   bool
	ended      bool // session.end came; the client checks out
	// applied is the last arguments of each screen command applied (a
	// canonical JSON), and rejoinedAt when the controller last told the
	// kiosk a session it still held: the controller then sends the last
	// screen commands again, for a kiosk that restarted, and one that only
	// lost its connection must not start its scene over (see replay).
	applied    map[string]string
	rejoinedAt time.Time
	tray       *sandtray.Tray
	// group is the group tray the controller holds, as this kiosk was
	// shown it (nil outside a group's shared sandtray).
	group    *groupview.Mirror
	notice   string
	noticeAt time.Time
	held     []held // while a command is applied
	// draw is the drawing on the drawing screen, opened at drawOpened;
	// drawRev counts its changes.
	draw       *drawing.Drawing
	drawOpened time.Time
	drawRev    int
}

// NewModel returns a kiosk on its attract screen.
func NewModel(emit Emit, now func() time.Time) *Model {
	if now == nil {
		now = time.Now
	}
	m := &Model{DefaultLang: "zh", Idle: 10 * time.Minute, emit: emit, now: now}
	m.reset()
	return m
}

// reset clears everything a client made. Callers hold mu (or own m).
func (m *Model) reset() {
	gen := m.st.Generation + 1
	online, lang := m.st.Online, m.DefaultLang
	m.st = State{Screen: Attract, Lang: lang, Bright: 1, Motion: 1, Guide: "none", Online: online, Generation: gen,
		Breathing: Breathing{BPM: 6, Inhale: 0.4, Start: m.now()}}
	m.tray = sandtray.New()
	m.group, m.notice = nil, ""
	m.draw = nil
	m.drawRev++
	m.st.DrawRev = m.drawRev
	m.trayUsed, m.ended = false, false
	m.goodbyeAt, m.sceneEnd = time.Time{}, time.Time{}
	m.applied, m.rejoinedAt = map[string]string{}, time.Time{}
	m.lastActive = m.now()
}

// setFeedback takes a biofeedback band: the look changes (fading from the
// last) for a band, holds for "none", and ends for "off".
func (m *Model) setFeedback(f string) {
	if f == "off" {
		f = ""
	}
	m.st.Feedback = f
	look := f
	if f == "none" {
		look = m.st.Look
	}
	if look != m.st.Look {
		m.st.LookFrom, m.st.Look, m.st.LookAt = m.st.Look, look, m.now()
	}
}

// State returns a copy of the state for drawing.
func (m *Model) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.st
	s.Tray = m.copyTray()
	if g := m.group; g != nil && g.Tray != nil {
		s.Group = &GroupView{You: g.You, Turn: g.Turn, Order: slices.Clone(g.Order), Rules: string(g.Rules), Phase: string(g.Phase),
			MyTurn: g.MyTurn(), Authors: maps.Clone(g.Authors), Spotlight: g.Spotlight, SpotlightSteps: slices.Clone(g.SpotlightSteps),
			Notice: m.notice, NoticeAt: m.noticeAt}
	}
	s.Check = copyCheck(m.st.Check)
	s.DrawMarks = slices.Clone(m.st.DrawMarks)
	return s
}

// copyTray copies the tray shown: the kiosk's own, or in a group's shared
// sandtray the group's. Callers hold mu.
func (m *Model) copyTray() *sandtray.Tray {
	t := m.tray
	if g := m.group; g != nil && g.Tray != nil {
		t = g.Tray
	}
	return &sandtray.Tray{Sand: slices.Clone(t.Sand), Placed: slices.Clone(t.Placed), NextID: t.NextID}
}

// SetOnline records whether the controller is reachable.
func (m *Model) SetOnline(on bool) {
	m.mu.Lock()
	m.st.Online = on
	m.mu.Unlock()
}

func (m *Model) record(kind string, data any) {
	if m.held != nil {
		m.held = append(m.held, held{m.st.Session, kind, data})
		return
	}
	m.emitNow(m.st.Session, kind, data)
}

func (m *Model) emitNow(session, kind string, data any) {
	if m.emit == nil {
		return
	}
	if err := m.emit(session, kind, data); err != nil && m.Logf != nil {
		m.Logf("kiosk: could not record %s: %v", kind, err)
	}
}

// Command applies a command from the controller; an error refuses it (the
// ack says why) and changes nothing.
func (m *Model) Command(cmd wire.Command) error {
	var args map[string]any
	if len(cmd.Args) > 0 && string(cmd.Args) != "null" {
		if err := json.Unmarshal(cmd.Args, &args); err != nil {
			return fmt.Errorf("%s: arguments: %v", cmd.Name, err)
		}
	}
	if cmd.Name == "session.end" {
		return m.end(cmd.Session)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A refused command changes nothing and records nothing: what it did
	// before refusing (joining its session, say) is undone.
	st, tray, used, ended, group := m.st, m.tray, m.trayUsed, m.ended, m.group
	draw, drawOpened, drawRev := m.draw, m.drawOpened, m.drawRev
	goodbye, sceneEnd, active := m.goodbyeAt, m.sceneEnd, m.lastActive
	m.held = []held{}
	err := m.command(cmd, args)
	events := m.held
	m.held = nil
	if err != nil {
		m.st, m.tray, m.trayUsed, m.ended, m.group = st, tray, used, ended, group
		m.draw, m.drawOpened, m.drawRev = draw, drawOpened, drawRev
		m.goodbyeAt, m.sceneEnd, m.lastActive = goodbye, sceneEnd, active
		return err
	}
	if slices.Contains(replayable, cmd.Name) {
		if m.applied == nil {
			m.applied = map[string]string{}
		}
		m.applied[cmd.Name] = canonical(args)
	}
	for _, e := range events {
		m.emitNow(e.session, e.kind, e.data)
	}
	return nil
}

// replayable are the commands the controller sends again to a station
// back in its session (sessions/rejoin.go).
var replayable = []string{"scene.start", "sandtray.open", "drawing.open", "scene.set", "breathing.set"}

// rejoinWindow is how long after a rejoin the controller's resent
// commands are recognised as such.
const rejoinWindow = 3 * time.Second

// replay reports whether a command is the controller sending again, right
// after a rejoin, what this kiosk applied last: a kiosk that only lost its
// connection keeps its scene running (and its client on whatever screen
// they went on to) instead of starting it over. Callers hold mu.
func (m *Model) replay(name string, args map[string]any) bool {
	if m.rejoinedAt.IsZero() || m.now().Sub(m.rejoinedAt) > rejoinWindow || !slices.Contains(replayable, name) {
		return false
	}
	last, ok := m.applied[name]
	return ok && last == canonical(args)
}

// canonical is args as JSON with sorted keys.
func canonical(args map[string]any) string {
	b, _ := json.Marshal(args)
	return string(b)
}

// held is an event recorded while a command is applied, sent once the
// command is accepted.
type held struct {
	session, kind string
	data          any
}

// command applies a decoded command. Callers hold mu.
func (m *Model) command(cmd wire.Command, args map[string]any) error {
	if cmd.Session != "" && cmd.Session != m.st.Session && cmd.Name != "device.identify" && cmd.Name != "session.start" {
		if cmd.Name == "session.end" {
			return fmt.Errorf("session %s is not the one on this kiosk", cmd.Session)
		}
		// A command of a session the kiosk did not hear begin (it was
		// offline at the start): that session begins now, for a new client.
		if m.st.Session != "" || m.trayUsed {
			m.reset()
		}
		m.st.Session = cmd.Session
		m.record("session.joined", map[string]any{"by": cmd.Name})
	}
	m.lastActive = m.now()
	if m.replay(cmd.Name, args) {
		return nil // what the kiosk shows already; acknowledged, nothing redone
	}
	switch cmd.Name {
	case "session.start":
		lang, _ := args["lang"].(string)
		if lang != "" && lang != "zh" && lang != "en" {
			return fmt.Errorf("lang %q is not zh or en", lang)
		}
		if cmd.Session != "" && cmd.Session == m.st.Session && m.st.Screen != Attract {
			// The controller tells a station its session again when it
			// reconnects: the client's screen and tray stay as they are.
			if lang != "" {
				m.st.Lang = lang
			}
			m.record("session.rejoined", map[string]any{"screen": string(m.st.Screen)})
			m.rejoinedAt = m.now()
			break
		}
		if m.st.Session != cmd.Session || m.trayUsed || m.st.Screen != Attract {
			m.reset()
		}
		m.st.Session = cmd.Session
		if lang != "" {
			m.st.Lang = lang
		}
		m.st.Screen = CheckIn
		m.record("checkin.shown", map[string]any{"lang": m.st.Lang})
	case "scene.start":
		scene, _ := args["scene"].(string)
		if !isScene(scene) {
			return fmt.Errorf("unknown scene %q (%s)", scene, strings.Join(sceneIDs(), ", "))
		}
		m.st.Scene, m.st.Screen = scene, Scene
		m.sceneEnd = time.Time{}
		if d, _ := args["duration_s"].(float64); d > 0 {
			m.sceneEnd = m.now().Add(time.Duration(d * float64(time.Second)))
		}
		m.record("scene.started", map[string]any{"scene": scene})
	case "scene.set":
		if g, ok := args["guide"].(string); ok {
			if !slices.Contains(Guides, g) {
				return fmt.Errorf("unknown guide %q (%s)", g, strings.Join(Guides, ", "))
			}
			m.st.Guide = g
		}
		if v, ok := args["brightness"].(float64); ok {
			m.st.Bright = v
		}
		if v, ok := args["motion"].(float64); ok {
			m.st.Motion = v
		}
		if f, ok := args["feedback"].(string); ok {
			if !slices.Contains(Feedbacks, f) {
				return fmt.Errorf("unknown feedback %q (%s)", f, strings.Join(Feedbacks, ", "))
			}
			m.setFeedback(f)
		}
		changed := map[string]any{"scene": m.st.Scene, "guide": m.st.Guide, "brightness": m.st.Bright, "motion": m.st.Motion}
		if m.st.Feedback != "" {
			changed["feedback"] = m.st.Feedback
		}
		m.record("scene.changed", changed)
	case "breathing.set":
		b := Breathing{BPM: num(args["bpm"], 6), Inhale: num(args["inhale_ratio"], 0.4), Hold: num(args["hold_s"], 0), Start: m.now()}
		if b.BPM < 2 || b.BPM > 20 || b.Inhale < 0.2 || b.Inhale > 0.8 || b.Hold < 0 || b.Hold > 10 {
			return fmt.Errorf("breathing pace out of range: bpm 2-20, inhale_ratio 0.2-0.8, hold_s 0-10")
		}
		if b.Hold >= 60/b.BPM*(1-b.Inhale) {
			return fmt.Errorf("a hold of %gs leaves no time to breathe out at %g breaths a minute", b.Hold, b.BPM)
		}
		m.st.Breathing = b // a new breath starts now, as the speakers' cue does
		if m.st.Screen != Rating && m.st.Screen != CheckOut {
			m.st.Screen = Scene
		}
		m.record("breathing.changed", map[string]any{"bpm": b.BPM, "inhale_ratio": b.Inhale, "hold_s": b.Hold})
	case "sandtray.open":
		m.st.Screen = Sandtray
		m.st.Weapons, _ = args["weapons"].(bool)
		m.group = nil // a group tray follows, when the group has one
		m.record("sandtray.opened", nil)
	case "sandtray.group":
		var c groupview.Command
		if err := json.Unmarshal(cmd.Args, &c); err != nil {
			return fmt.Errorf("sandtray.group: %v", err)
		}
		g := &groupview.Mirror{}
		if m.group != nil {
			g = m.group.Clone()
		}
		if err := g.Apply(c); err != nil {
			return err // the controller sends the whole tray
		}
		m.group = g
	case "sandtray.suggest":
		id, _ := args["figure"].(string)
		if err := figures.Check(id); err != nil {
			return err
		}
		f, _ := figures.ByID(id)
		m.st.Suggested = append([]string{f.ID}, slices.DeleteFunc(slices.Clone(m.st.Suggested), func(s string) bool { return s == f.ID })...)
		if len(m.st.Suggested) > MaxSuggested {
			m.st.Suggested = m.st.Suggested[:MaxSuggested]
		}
		m.record("sandtray.suggested", map[string]any{"figure": f.ID})
	case "drawing.open":
		return m.openDrawing(args)
	case "sandtray.clear":
		if _, err := m.tray.Apply(sandtray.Action{Kind: sandtray.Clear}); err != nil {
			return err
		}
		m.record("sandtray.cleared", nil)
	case "prompt.rating":
		text, _ := args["prompt"].(string)
		p := Prompt{Text: text, Min: int(num(args["min"], 0)), Max: int(num(args["max"], 10)), Back: m.st.Screen}
		if strings.TrimSpace(text) == "" || p.Min >= p.Max || p.Max-p.Min > 10 {
			return fmt.Errorf("a rating needs a prompt and a scale of 2 to 11 points (min %d, max %d)", p.Min, p.Max)
		}
		if p.Back == Rating {
			p.Back = m.st.Prompt.Back
		}
		m.st.Prompt, m.st.Screen = p, Rating
		m.record("rating.shown", map[string]any{"prompt": text})
	case "scale.start":
		return m.startCheck(args)
	case "device.identify":
		secs := num(args["seconds"], 10)
		m.st.IdentifyUntil = m.now().Add(time.Duration(secs * float64(time.Second)))
		m.record("device.identified", map[string]any{"seconds": secs})
	default:
		return fmt.Errorf("this kiosk cannot do %s", cmd.Name)
	}
	return nil
}

// end closes the client's part: the client checks out, and the tray's
// picture is sent if the tray was used. The picture is drawn by the screen
// without the model's lock held, as drawing reads the model.
func (m *Model) end(session string) error {
	m.mu.Lock()
	if m.st.Session == "" {
		m.st.Session = session // the kiosk restarted during the session
	}
	if session != "" && session != m.st.Session {
		m.mu.Unlock()
		return fmt.Errorf("session %s is not the one on this kiosk", session)
	}
	m.lastActive = m.now()
	m.ended = true
	m.st.Screen = CheckOut
	// The help message is of the session that ended: check-out shows
	// without it (the counsellor has the alert).
	m.st.HelpAt, m.st.HelpOffline = time.Time{}, false
	m.record("checkout.shown", nil)
	var tray *sandtray.Tray
	if m.trayUsed && m.Snapshot != nil {
		tray = m.copyTray()
	}
	gen, placed := m.st.Generation, len(m.copyTray().Placed)
	m.mu.Unlock()
	if tray == nil {
		return nil
	}
	png, err := m.Snapshot(tray)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if m.Logf != nil {
			m.Logf("kiosk: tray snapshot: %v", err)
		}
		return nil
	}
	if m.st.Generation == gen { // not cleared meanwhile
		m.record("sandtray.snapshot", map[string]any{"png": png, "figures": placed})
	}
	return nil
}

// SetLang changes the language of the screens (a technician's choice on
// the settings page; a session's own language comes with session.start).
func (m *Model) SetLang(lang string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Lang = lang
	m.DefaultLang = lang
}

func num(v any, def float64) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	return def
}

func isScene(id string) bool { return slices.Contains(sceneIDs(), id) }

func sceneIDs() []string {
	var ids []string
	for _, it := range content.List(content.KindScene) {
		ids = append(ids, it.ID)
	}
	return ids
}

// touch notes the client's activity. Callers hold mu.
func (m *Model) touch() { m.lastActive = m.now() }

// Touch notes a touch anywhere: it keeps the idle timeout away.
func (m *Model) Touch() {
	m.mu.Lock()
	m.touch()
	m.mu.Unlock()
}

// ErrWrongScreen is a client action on a screen that does not offer it.
var ErrWrongScreen = errors.New("not on this screen")

// CheckIn records the client's distress (0-10) and mood at check-in, or at
// check-out on the check-out screen.
func (m *Model) CheckIn(distress int, mood string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if distress < 0 || distress > 10 || !slices.Contains(Moods, mood) {
		return fmt.Errorf("distress %d (0-10) or mood %q (%s)", distress, mood, strings.Join(Moods, ", "))
	}
	m.touch()
	switch m.st.Screen {
	case CheckIn:
		m.record("checkin.rating", map[string]any{"distress": distress, "mood": mood})
		m.st.Screen = Waiting
	case CheckOut:
		m.record("checkout.rating", map[string]any{"distress": distress, "mood": mood})
		m.st.Screen = Goodbye
		m.goodbyeAt = m.now()
	default:
		return ErrWrongScreen
	}
	return nil
}

// Answer records the client's answer to the rating prompt.
func (m *Model) Answer(value int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st.Screen != Rating {
		return ErrWrongScreen
	}
	p := m.st.Prompt
	if value < p.Min || value > p.Max {
		return fmt.Errorf("rating %d is outside %d-%d", value, p.Min, p.Max)
	}
	m.touch()
	m.record("rating.answer", map[string]any{"prompt": p.Text, "value": value})
	m.st.Screen = p.Back
	if m.st.Screen == "" || m.st.Screen == Rating {
		m.st.Screen = Waiting
	}
	return nil
}

// Help records a press of the call-counsellor button, at once, on any
// screen. The model notes whether the controller was reachable, so the
// screen can tell the client what to do.
func (m *Model) Help() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.touch()
	m.st.HelpAt = m.now()
	m.st.HelpOffline = !m.st.Online
	m.record("help.requested", map[string]any{"screen": string(m.st.Screen), "online": m.st.Online})
}

// DismissHelp hides the help message.
func (m *Model) DismissHelp() {
	m.mu.Lock()
	m.st.HelpAt = time.Time{}
	m.mu.Unlock()
}

// Tray applies a client's sandtray action; a refused action changes
// nothing and records nothing. It returns the new placement's number for a
// place. In a group's shared tray the controller orders every action: the
// kiosk sends its member's action, applies nothing itself (the controller's
// step comes back) and returns 0; an action the rules refuse is refused
// here first when the kiosk can tell (not their turn, another's figure,
// the counsellor's clear and undo), with a notice for the member.
func (m *Model) Tray(a sandtray.Action) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st.Screen != Sandtray {
		return 0, ErrWrongScreen
	}
	m.touch()
	if g := m.group; g != nil && g.Tray != nil {
		return 0, m.groupAction(g, a)
	}
	id, err := m.tray.Apply(a)
	if err != nil {
		return 0, err
	}
	m.trayUsed = true
	if a.Kind == sandtray.Place {
		a.ID = id
	}
	m.record(sandtray.EventPrefix+a.Kind, actionFields(a))
	return id, nil
}

// actionFields are an action's fields as its event's data.
func actionFields(a sandtray.Action) map[string]any {
	data, _ := json.Marshal(a)
	var fields map[string]any
	json.Unmarshal(data, &fields)
	delete(fields, "kind")
	return fields
}

// groupAction sends a member's action on the group tray. Callers hold mu.
func (m *Model) groupAction(g *groupview.Mirror, a sandtray.Action) error {
	var why string
	switch {
	case g.You == "":
		why = NoticeNotMember
	case a.Kind == sandtray.Clear || a.Kind == sandtray.Undo || a.Kind == sandtray.Redo:
		why = NoticeCounsellor
	case g.Phase == groupview.Sharing:
		why = NoticeSharing
	case !g.MyTurn():
		why = NoticeNotYourTurn
	case a.Kind == sandtray.Remove && g.Authors[a.ID] != "" && !g.Mine(a.ID):
		why = NoticeNotYourFigure
	}
	if why != "" {
		m.notice, m.noticeAt = why, m.now()
		return errors.New(why)
	}
	if err := sandtray.Check(a); err != nil {
		return err
	}
	m.trayUsed = true
	m.record(sandtray.EventPrefix+a.Kind, actionFields(a))
	return nil
}

// Refused takes the controller's refusal of an event this kiosk sent
// (its error frame's words): in a group tray, the member is told.
func (m *Model) Refused(message string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.group == nil {
		return
	}
	switch {
	case strings.Contains(message, groupview.NotYourTurn):
		message = NoticeNotYourTurn
	case strings.Contains(message, groupview.NotYourFigure):
		message = NoticeNotYourFigure
	case strings.Contains(message, "sharing"):
		message = NoticeSharing
	}
	m.notice, m.noticeAt = message, m.now()
}

// Tick moves time on: a scene's end, the goodbye screen's clearing, and
// the idle timeout that clears everything a client made.
func (m *Model) Tick() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if !m.sceneEnd.IsZero() && now.After(m.sceneEnd) {
		m.record("scene.ended", map[string]any{"scene": m.st.Scene})
		m.sceneEnd = time.Time{}
		m.st.Screen = Waiting
	}
	if !m.goodbyeAt.IsZero() && now.Sub(m.goodbyeAt) > 8*time.Second {
		m.record("session.closed_on_device", nil)
		m.reset()
		return
	}
	if m.st.Screen != Attract && m.Idle > 0 && now.Sub(m.lastActive) > m.Idle {
		m.record("kiosk.cleared", map[string]any{"reason": "idle", "idle_s": m.Idle.Seconds()})
		m.reset()
	}
}
