// Package sessions runs counselling sessions: clients known by a
// pseudonymous code, sessions in a room with stations (devices), their plans
// and state machine, the counsellor's steering commands, notes and alerts.
// Every change is an event in the session's stream of the event log.
package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	"waystation/content"
	"waystation/internal/platform/jsonerr"
	"waystation/internal/platform/waystation"
)

// State is where a session is in its life.
type State string

// The states. A session running when the controller died comes back as
// interrupted, and can be resumed or ended.
const (
	Planned     State = "planned"
	Running     State = "running"
	Paused      State = "paused"
	Ended       State = "ended"
	Aborted     State = "aborted"
	Interrupted State = "interrupted"
)

// Active reports whether a session in state s holds its stations.
func (s State) Active() bool { return s == Running || s == Paused || s == Interrupted }

// Risk is a client's risk tier; it sets how fast alerts escalate.
type Risk string

// The risk tiers.
const (
	Low    Risk = "low"
	Medium Risk = "medium"
	High   Risk = "high"
)

// ParseRisk checks a risk tier.
func ParseRisk(s string) (Risk, error) {
	switch r := Risk(s); r {
	case Low, Medium, High:
		return r, nil
	}
	return "", waystation.Errorf(waystation.EINVALID, "risk %q must be low, medium or high", s)
}

// Client is a person served, known only by a pseudonymous code.
type Client struct {
	Code    string    `json:"code"`
	Risk    Risk      `json:"risk"`
	Created time.Time `json:"created"`
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{1,31}$`)

// CheckCode refuses codes that could be names or carry markup: a code is
// 2 to 32 letters, digits and dashes.
func CheckCode(code string) error {
	if !codeRE.MatchString(code) {
		return waystation.Errorf(waystation.EINVALID, "client code %q must be 2 to 32 letters, digits and dashes (a pseudonymous code, never a name)", code)
	}
	return nil
}

// Session is one counselling session.
type Session struct {
	ID     string `json:"id"`
	RoomID string `json:"room_id"`
	Room   string `json:"room"`
	Client string `json:"client"`
	// Clients are a group session's members, in the order given (Client
	// is then empty).
	Clients []string `json:"clients,omitempty"`
	// Members maps a group member to the station assigned to them;
	// members who share the session's stations are not in it.
	Members      map[string]string `json:"members,omitempty"`
	Risk         Risk              `json:"risk"`
	CounsellorID string            `json:"counsellor_id"`
	Counsellor   string            `json:"counsellor"`
	Stations     []string          `json:"stations"`
	Plan         Plan              `json:"plan"`
	Step         int               `json:"step"`
	State        State             `json:"state"`
	Created      time.Time         `json:"created"`
	Started      *time.Time        `json:"started,omitempty"`
	Ended        *time.Time        `json:"ended,omitempty"`
}

// Step kinds of a plan.
const (
	StepCheckin    = "checkin"
	StepRelaxation = "relaxation"
	StepMusic      = "music"
	StepSandtray   = "sandtray"
	StepVR         = "vr"
	StepScale      = "scale" // a self-check on the kiosk
	StepCheckout   = "checkout"
	// StepResonance paces the client through breathing rates and finds
	// the one the heart answers most (resonance.go).
	StepResonance = "resonance"
)

// Plan is an ordered list of steps; an ad-hoc session has none.
type Plan struct {
	// Lang is the language the client's screens speak: "zh" or "en";
	// empty leaves each kiosk's own default.
	Lang  string `json:"lang,omitempty"`
	Steps []Step `json:"steps"`
}

// Langs are the languages of the client's screens.
var Langs = []string{"zh", "en"}

// Step is one part of a plan. Which fields apply depends on Kind.
type Step struct {
	Kind      string  `json:"kind"`
	Title     string  `json:"title,omitempty"`
	DurationS int     `json:"duration_s,omitempty"`
	Scene     string  `json:"scene,omitempty"`   // relaxation
	BPM       float64 `json:"bpm,omitempty"`     // relaxation: breathing pace
	Content   string  `json:"content,omitempty"` // music
	Program   string  `json:"program,omitempty"` // vr
	Levels    []int   `json:"levels,omitempty"`  // vr: intensity levels in order
	Rating    bool    `json:"rating,omitempty"`  // vr: ask a rating at each level
	Scale     string  `json:"scale,omitempty"`   // scale: the scale's id
	// Rates are a resonance step's breathing rates, in order (default
	// ResonanceRates).
	Rates []float64 `json:"rates,omitempty"`
	// Biofeedback makes a relaxation step's scene follow the heart's
	// coherence (feedback.go).
	Biofeedback bool `json:"biofeedback,omitempty"`
}

// DecodePlan decodes and checks a plan; empty input is an ad-hoc plan.
func DecodePlan(raw json.RawMessage) (Plan, error) {
	var p Plan
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return Plan{Steps: []Step{}}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, waystation.Errorf(waystation.EINVALID, "plan: %s", jsonerr.Message(err))
	}
	if p.Steps == nil {
		p.Steps = []Step{}
	}
	if len(p.Steps) > 50 {
		return p, waystation.Errorf(waystation.EINVALID, "plan has %d steps; at most 50", len(p.Steps))
	}
	if p.Lang != "" && !slices.Contains(Langs, p.Lang) {
		return p, waystation.Errorf(waystation.EINVALID, "plan: lang %q is not one of zh, en", p.Lang)
	}
	for i, s := range p.Steps {
		if err := s.check(); err != nil {
			return p, waystation.Errorf(waystation.EINVALID, "plan step %d (%s): %s", i+1, s.Kind, err)
		}
	}
	return p, nil
}

// contentIDRE is the shape of a content catalogue id.
var contentIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func (s Step) check() error {
	idRE := contentIDRE
	switch {
	case len(s.Title) > 100:
		return fmt.Errorf("title is longer than 100 characters")
	case s.DurationS < 0 || s.DurationS > 4*3600:
		return fmt.Errorf("duration_s must be from 0 to 14400")
	}
	if s.Biofeedback && s.Kind != StepRelaxation {
		return fmt.Errorf("biofeedback is for relaxation steps")
	}
	switch s.Kind {
	case StepCheckin, StepCheckout, StepSandtray:
	case StepRelaxation:
		if s.Biofeedback && s.Scene == "" {
			return fmt.Errorf("biofeedback needs a scene to change")
		}
		if s.Scene != "" && !idRE.MatchString(s.Scene) {
			return fmt.Errorf("scene %q is not a content id", s.Scene)
		}
		if s.BPM != 0 && (s.BPM < 2 || s.BPM > 20) {
			return fmt.Errorf("bpm must be from 2 to 20, got %v", s.BPM)
		}
	case StepMusic:
		if !idRE.MatchString(s.Content) {
			return fmt.Errorf("content %q is not a content id", s.Content)
		}
	case StepVR:
		if !idRE.MatchString(s.Program) {
			return fmt.Errorf("program %q is not a content id", s.Program)
		}
		if len(s.Levels) == 0 {
			if err := content.CheckProgram(s.Program, "", 0); err != nil {
				return err
			}
		}
		for _, l := range s.Levels {
			if err := content.CheckProgram(s.Program, "", l); err != nil {
				return err
			}
		}
	case StepScale:
		if !idRE.MatchString(s.Scale) {
			return fmt.Errorf("scale %q is not a scale id", s.Scale)
		}
	case StepResonance:
		if len(s.Rates) == 1 || len(s.Rates) > 10 {
			return fmt.Errorf("rates: give 2 to 10 breathing rates, or none for %v", ResonanceRates)
		}
		for _, r := range s.Rates {
			if r < 3 || r > 10 {
				return fmt.Errorf("rates: %v breaths a minute is outside 3-10", r)
			}
		}
	default:
		return fmt.Errorf("unknown step kind %q (one of checkin, relaxation, music, sandtray, vr, scale, resonance, checkout)", s.Kind)
	}
	return nil
}
