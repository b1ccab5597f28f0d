// Package scale reads psychological measurement scales from files, the way
// package profile reads device profiles: one strict YAML file per scale
// (items in Chinese and English, answer options with scores, reverse-scored
// items, subscales, how the total is formed, bands with cut-offs, the item
// answers that raise an alert, the licence and the published sources), and
// scores a set of answers. The controller, the CLI (waystation scale score)
// and the tests score with the same code.
package scale

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"waystation/internal/platform/yamlfile"
)

// Option is one answer an item offers, with its score as printed on the
// form.
type Option struct {
	Score float64 `json:"score"`
	EN    string  `json:"en"`
	ZH    string  `json:"zh"`
}

// Item is one question.
type Item struct {
	ID int    `json:"id"`
	EN string `json:"en"`
	ZH string `json:"zh"`
	// Reverse items count max+min-score: the form's score read the other
	// way round.
	Reverse bool     `json:"reverse,omitempty"`
	Options []Option `json:"options"` // the scale's unless the item has its own
}

// Rule is an item answer that raises an alert to the counsellor at once.
type Rule struct {
	Item    int     `json:"item"`
	AtLeast float64 `json:"at_least"`
	Kind    string  `json:"kind"`
	EN      string  `json:"en"`
	ZH      string  `json:"zh"`
}

// Band is a range of totals [From, To] with its name.
type Band struct {
	From float64 `json:"from"`
	To   float64 `json:"to"`
	ID   string  `json:"id"`
	EN   string  `json:"en"`
	ZH   string  `json:"zh"`
}

// Formula says how item scores become a figure: their sum or mean, times
// Factor, rounded to Decimals places (Round "nearest" or "down").
type Formula struct {
	Method   string  `json:"method"` // sum or mean
	Factor   float64 `json:"factor"`
	Decimals int     `json:"decimals"`
	Round    string  `json:"round"` // nearest or down
}

// Subscale is a figure over some of the items.
type Subscale struct {
	ID    string `json:"id"`
	EN    string `json:"en"`
	ZH    string `json:"zh"`
	Items []int  `json:"items"`
	Formula
}

// Scale is one scale as its file describes it.
type Scale struct {
	ID       string   `json:"id"`
	TitleEN  string   `json:"title_en"`
	TitleZH  string   `json:"title_zh"`
	Licensed bool     `json:"licensed"`
	Licence  string   `json:"licence"`
	Sources  []string `json:"sources"`
	PromptEN string   `json:"prompt_en"`
	PromptZH string   `json:"prompt_zh"`
	Items    []Item   `json:"items"`
	// Total is how the items make the total, which lies in [Min, Max].
	Total     Formula    `json:"total"`
	Min       float64    `json:"min"`
	Max       float64    `json:"max"`
	Bands     []Band     `json:"bands"`
	Subscales []Subscale `json:"subscales,omitempty"`
	Alerts    []Rule     `json:"alerts,omitempty"`
	File      string     `json:"-"`
}

// Item returns the item with id.
func (s *Scale) Item(id int) (Item, bool) {
	for _, it := range s.Items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Form is what a kiosk shows the client to answer: the title, the prompt
// and each item with its options, in both languages. It holds nothing of
// the scoring (bands, alerts): the kiosk shows no result.
type Form struct {
	Scale    string `json:"scale"`
	TitleEN  string `json:"title_en"`
	TitleZH  string `json:"title_zh"`
	PromptEN string `json:"prompt_en"`
	PromptZH string `json:"prompt_zh"`
	Items    []Item `json:"items"`
}

// Form returns the scale as the client answers it.
func (s *Scale) Form() Form {
	return Form{Scale: s.ID, TitleEN: s.TitleEN, TitleZH: s.TitleZH, PromptEN: s.PromptEN, PromptZH: s.PromptZH, Items: s.Items}
}

// Result is a scored set of answers: the total, its band, the subscales,
// and the alerts the answers raise.
type Result struct {
	Scale     string             `json:"scale"`
	Total     float64            `json:"total"`
	Band      string             `json:"band"`
	BandEN    string             `json:"band_en"`
	BandZH    string             `json:"band_zh"`
	Subscales map[string]float64 `json:"subscales"`
	Alerts    []Hit              `json:"alerts"`
}

// Hit is an alert rule an answer met.
type Hit struct {
	Item  int     `json:"item"`
	Score float64 `json:"score"`
	Kind  string  `json:"kind"`
	EN    string  `json:"en"`
	ZH    string  `json:"zh"`
}

// Check says whether score is one of item's options, naming them if not.
func (s *Scale) Check(item int, score float64) error {
	it, ok := s.Item(item)
	if !ok {
		return fmt.Errorf("scale %s has no item %d (items 1 to %d)", s.ID, item, len(s.Items))
	}
	var allowed []string
	for _, o := range it.Options {
		if o.Score == score {
			return nil
		}
		allowed = append(allowed, trim(o.Score))
	}
	return fmt.Errorf("item %d of %s takes %s, not %s", item, s.ID, strings.Join(allowed, ", "), trim(score))
}

// Raised returns the alert rules an answer meets.
func (s *Scale) Raised(item int, score float64) []Hit {
	var hits []Hit
	for _, r := range s.Alerts {
		if r.Item == item && score >= r.AtLeast {
			hits = append(hits, Hit{Item: item, Score: score, Kind: r.Kind, EN: r.EN, ZH: r.ZH})
		}
	}
	return hits
}

// Score scores answers: the score of the option chosen for each item, in
// the file's item order. Every item must be answered with one of its
// options.
func (s *Scale) Score(answers []float64) (Result, error) {
	if len(answers) != len(s.Items) {
		return Result{}, fmt.Errorf("scale %s has %d items; %d answers given", s.ID, len(s.Items), len(answers))
	}
	byID := map[int]float64{}
	r := Result{Scale: s.ID, Subscales: map[string]float64{}, Alerts: []Hit{}}
	for i, it := range s.Items {
		if err := s.Check(it.ID, answers[i]); err != nil {
			return Result{}, fmt.Errorf("answer %d: %w", i+1, err)
		}
		byID[it.ID] = counted(it, answers[i])
		r.Alerts = append(r.Alerts, s.Raised(it.ID, answers[i])...)
	}
	all := make([]int, len(s.Items))
	for i, it := range s.Items {
		all[i] = it.ID
	}
	r.Total = s.Total.apply(all, byID)
	for _, b := range s.Bands {
		if r.Total >= b.From && r.Total <= b.To {
			r.Band, r.BandEN, r.BandZH = b.ID, b.EN, b.ZH
		}
	}
	for _, sub := range s.Subscales {
		r.Subscales[sub.ID] = sub.apply(sub.Items, byID)
	}
	return r, nil
}

// counted is an answer's score as it counts: reversed for reverse items.
func counted(it Item, score float64) float64 {
	if !it.Reverse {
		return score
	}
	lo, hi := optionRange(it.Options)
	return lo + hi - score
}

func optionRange(opts []Option) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, o := range opts {
		lo, hi = min(lo, o.Score), max(hi, o.Score)
	}
	return lo, hi
}

// apply forms the figure over items from their counted scores.
func (f Formula) apply(items []int, scores map[int]float64) float64 {
	sum := 0.0
	for _, id := range items {
		sum += scores[id]
	}
	x := sum
	if f.Method == "mean" && len(items) > 0 {
		x = sum / float64(len(items))
	}
	x *= f.Factor
	p := math.Pow(10, float64(f.Decimals))
	if f.Round == "down" {
		return math.Floor(x*p+1e-9) / p
	}
	return math.Round(x*p) / p
}

// reach is the least and most a formula over items can give.
func (f Formula) reach(s *Scale, items []int) (lo, hi float64) {
	los, his := map[int]float64{}, map[int]float64{}
	for _, id := range items {
		it, _ := s.Item(id)
		a, b := optionRange(it.Options)
		los[id], his[id] = a, b // reversing swaps which answer gives which, not the range
	}
	return f.apply(items, los), f.apply(items, his)
}

// Quality flags a set of answers a counsellor should read with care:
// "too_fast" when the median time per item is under a second, "same_answer"
// when every item of five or more got the same option (straight-lining).
func Quality(scores []float64, ms []int64) []string {
	flags := []string{}
	if len(ms) > 0 {
		sorted := slices.Clone(ms)
		slices.Sort(sorted)
		median := float64(sorted[len(sorted)/2])
		if len(sorted)%2 == 0 {
			median = float64(sorted[len(sorted)/2-1]+sorted[len(sorted)/2]) / 2
		}
		if median < 1000 {
			flags = append(flags, "too_fast")
		}
	}
	if len(scores) >= 5 {
		same := true
		for _, x := range scores[1:] {
			same = same && x == scores[0]
		}
		if same {
			flags = append(flags, "same_answer")
		}
	}
	return flags
}

func trim(x float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", x), "0"), ".")
}

// Set is the scales loaded from a folder, by id. The zero Set holds none.
type Set struct{ byID map[string]*Scale }

// Get returns a scale by id.
func (s *Set) Get(id string) (*Scale, bool) { sc, ok := s.byID[id]; return sc, ok }

// List returns every scale, by id.
func (s *Set) List() []*Scale {
	out := make([]*Scale, 0, len(s.byID))
	for _, sc := range s.byID {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Load reads and decodes one scale file.
func Load(path string) (*Scale, error) { return yamlfile.Load(path, MaxFileSize, Decode) }

// LoadDir loads every *.yaml and *.yml file in dir. Good scales are
// returned even when others are broken; the error lists every mistake,
// including two files that claim the same id.
func LoadDir(dir string) (*Set, error) {
	byID, err := yamlfile.LoadDir(dir, "scale", Load, func(sc *Scale) (string, string) { return sc.ID, sc.File })
	return &Set{byID: byID}, err
}
