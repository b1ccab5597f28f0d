package devsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"waystation/devices/capability"
)

// Script replaces a simulated headset's body with known figures: at each
// level of a program the client's heart gives exactly these beat-to-beat
// (RR) intervals, sent at once when the level starts, and the client answers
// a rating prompt with Rating. Tests and demos that check the assessment's
// arithmetic use it. A script file is JSON:
//
//	{"rating_delay_ms": 200,
//	 "levels": [{"level": 0, "rr_ms": [800, 820, 790, 810], "rating": 1}, ...,
//	            {"program": "beach", "level": 0, "rr_ms": [900, 950]}]}
//
// A level with a program applies to that program only; one without, to
// any program that has no entry of its own for that level.
type Script struct {
	// RatingDelayMS is how long the client takes to answer; 2000 when 0.
	RatingDelayMS int           `json:"rating_delay_ms"`
	Levels        []ScriptLevel `json:"levels"`
	// ScaleAnswers are the client's answers to a scale, by scale id, as
	// the scores of the options chosen in item order; a scale not here is
	// answered with its first option throughout.
	ScaleAnswers map[string][]float64 `json:"scale_answers,omitempty"`
	// AnswerMS is how long the client takes over each item; 1500 when 0.
	AnswerMS int `json:"answer_ms,omitempty"`
}

// ScriptLevel is what happens at one level.
type ScriptLevel struct {
	Program string    `json:"program,omitempty"`
	Level   int       `json:"level"`
	RRms    []float64 `json:"rr_ms"`
	Rating  *int      `json:"rating"`
}

// maxScriptBeats bounds one level's series.
const maxScriptBeats = 10000

// DecodeScript reads and checks a script: levels 0-5 once each, RR
// intervals inside the vocabulary's range, ratings 0-10.
func DecodeScript(b []byte) (*Script, error) {
	var s Script
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	if s.RatingDelayMS < 0 || s.RatingDelayMS > 60000 {
		return nil, fmt.Errorf("script: rating_delay_ms %d is outside 0-60000", s.RatingDelayMS)
	}
	if s.AnswerMS < 0 || s.AnswerMS > 60000 {
		return nil, fmt.Errorf("script: answer_ms %d is outside 0-60000", s.AnswerMS)
	}
	seen := map[string]bool{}
	for i, l := range s.Levels {
		switch {
		case l.Level < 0 || l.Level > 5:
			return nil, fmt.Errorf("script: levels[%d]: level %d is outside 0-5", i, l.Level)
		case seen[fmt.Sprint(l.Program, "/", l.Level)]:
			return nil, fmt.Errorf("script: levels[%d]: level %d of %q is given twice", i, l.Level, l.Program)
		case len(l.RRms) > maxScriptBeats:
			return nil, fmt.Errorf("script: levels[%d]: %d beats; at most %d", i, len(l.RRms), maxScriptBeats)
		case l.Rating != nil && (*l.Rating < 0 || *l.Rating > 10):
			return nil, fmt.Errorf("script: levels[%d]: rating %d is outside 0-10", i, *l.Rating)
		}
		seen[fmt.Sprint(l.Program, "/", l.Level)] = true
		for j, rr := range l.RRms {
			if err := capability.CheckReading("rr_interval", rr); err != nil {
				return nil, fmt.Errorf("script: levels[%d].rr_ms[%d]: %w", i, j, err)
			}
		}
	}
	return &s, nil
}

// LoadScript reads a script file.
func LoadScript(path string) (*Script, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := DecodeScript(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// level returns the script of a program's level, or nil.
func (s *Script) level(program string, n int) *ScriptLevel {
	if s == nil {
		return nil
	}
	var any *ScriptLevel
	for i := range s.Levels {
		l := &s.Levels[i]
		switch {
		case l.Level != n:
		case l.Program == program:
			return l
		case l.Program == "":
			any = l
		}
	}
	return any
}
