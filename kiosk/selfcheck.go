package kiosk

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"
)

// CheckForm is a scale as the client answers it, sent with scale.start:
// the prompt and the items with their options, in both languages. The
// kiosk shows no result; the controller scores.
type CheckForm struct {
	Scale    string      `json:"scale"`
	TitleEN  string      `json:"title_en"`
	TitleZH  string      `json:"title_zh"`
	PromptEN string      `json:"prompt_en"`
	PromptZH string      `json:"prompt_zh"`
	Items    []CheckItem `json:"items"`
}

// CheckItem is one question.
type CheckItem struct {
	ID      int           `json:"id"`
	EN      string        `json:"en"`
	ZH      string        `json:"zh"`
	Options []CheckOption `json:"options"`
}

// CheckOption is one answer, with the score the form prints.
type CheckOption struct {
	Score float64 `json:"score"`
	EN    string  `json:"en"`
	ZH    string  `json:"zh"`
}

// Say returns one of two texts in the kiosk's language.
func Say(lang, zh, en string) string {
	if lang == "en" || zh == "" {
		return en
	}
	return zh
}

// Limits of a form a kiosk shows: more would not fit a touch screen, and
// a form that breaks them is refused whole.
const (
	maxCheckItems   = 200
	maxCheckOptions = 7
	maxCheckText    = 400 // characters of one item or option
)

// decodeForm reads and checks a self-check's form.
func decodeForm(scale string, raw any) (CheckForm, error) {
	var f CheckForm
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("scale.start: form: %v", err)
	}
	if f.Scale == "" {
		f.Scale = scale
	}
	if scale == "" || f.Scale != scale {
		return f, fmt.Errorf("scale.start: the form is of scale %q, not %q", f.Scale, scale)
	}
	if len(f.Items) == 0 || len(f.Items) > maxCheckItems {
		return f, fmt.Errorf("scale.start: %d items; a form has 1 to %d", len(f.Items), maxCheckItems)
	}
	seen := map[int]bool{}
	for i, it := range f.Items {
		if seen[it.ID] {
			return f, fmt.Errorf("scale.start: item %d appears twice", it.ID)
		}
		seen[it.ID] = true
		if strings.TrimSpace(it.EN) == "" && strings.TrimSpace(it.ZH) == "" || utf8.RuneCountInString(it.EN) > maxCheckText || utf8.RuneCountInString(it.ZH) > maxCheckText {
			return f, fmt.Errorf("scale.start: item %d: a text of 1 to %d characters", i+1, maxCheckText)
		}
		if len(it.Options) < 2 || len(it.Options) > maxCheckOptions {
			return f, fmt.Errorf("scale.start: item %d has %d options; 2 to %d fit the screen", it.ID, len(it.Options), maxCheckOptions)
		}
		for _, o := range it.Options {
			if utf8.RuneCountInString(o.EN) > maxCheckText || utf8.RuneCountInString(o.ZH) > maxCheckText {
				return f, fmt.Errorf("scale.start: item %d: an option over %d characters", it.ID, maxCheckText)
			}
		}
	}
	return f, nil
}

// SelfCheck is a self-check under way: the form, the item shown, the
// answers so far (by item id; a client may go back and change one).
type SelfCheck struct {
	Form    CheckForm
	Index   int
	Answers map[int]float64
	// Back is the screen to return to once it is done.
	Back Screen
	// shown is when the current item came on screen.
	shown time.Time
}

// Item returns the item shown.
func (c SelfCheck) Item() CheckItem { return c.Form.Items[c.Index] }

// startCheck shows a self-check's first item. Callers hold mu.
func (m *Model) startCheck(args map[string]any) error {
	scale, _ := args["scale"].(string)
	f, err := decodeForm(scale, args["form"])
	if err != nil {
		return err
	}
	back := m.st.Screen
	switch back {
	case SelfCheckScreen, Rating, CheckOut, Goodbye, Attract, CheckIn:
		back = Waiting
	}
	m.st.Check = &SelfCheck{Form: f, Answers: map[int]float64{}, Back: back, shown: m.now()}
	m.st.Screen = SelfCheckScreen
	m.record("scale.shown", map[string]any{"scale": f.Scale, "items": len(f.Items)})
	return nil
}

// Choose records the client's answer to the item shown (the score of the
// option tapped) and shows the next; after the last, the self-check is
// done and the kiosk returns to where it was. Each answer is sent as it
// is given, with how long the item was on screen: an answer that calls
// for the counsellor reaches them at once.
func (m *Model) Choose(score float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.st.Check
	if m.st.Screen != SelfCheckScreen || c == nil {
		return ErrWrongScreen
	}
	it := c.Item()
	ok := false
	for _, o := range it.Options {
		ok = ok || o.Score == score
	}
	if !ok {
		return fmt.Errorf("item %d has no option scored %g", it.ID, score)
	}
	m.touch()
	now := m.now()
	m.record("scale.answer", map[string]any{"scale": c.Form.Scale, "item": it.ID, "score": score, "ms": now.Sub(c.shown).Milliseconds()})
	c.Answers[it.ID] = score
	if c.Index+1 < len(c.Form.Items) {
		c.Index++
		c.shown = now
		return nil
	}
	m.record("scale.done", map[string]any{"scale": c.Form.Scale})
	m.st.Screen, m.st.Check = c.Back, nil
	return nil
}

// CheckBack shows the item before, to change its answer.
func (m *Model) CheckBack() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.st.Check
	if m.st.Screen != SelfCheckScreen || c == nil || c.Index == 0 {
		return ErrWrongScreen
	}
	m.touch()
	c.Index--
	c.shown = m.now()
	return nil
}

// copyCheck is a self-check for drawing, its answers copied.
func copyCheck(c *SelfCheck) *SelfCheck {
	if c == nil {
		return nil
	}
	cp := *c
	cp.Answers = maps.Clone(c.Answers)
	return &cp
}
