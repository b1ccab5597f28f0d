package scale

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"waystation/internal/platform/yamlfile"
)

// MaxFileSize bounds a scale file; SCL-90, the longest common one, is
// about 20 KiB.
const MaxFileSize = 256 << 10

// The file's shape, decoded strictly: unknown keys are mistakes.
type rawScale struct {
	ID        string        `yaml:"id"`
	TitleEN   string        `yaml:"title_en"`
	TitleZH   string        `yaml:"title_zh"`
	Licensed  *bool         `yaml:"licensed"`
	Licence   string        `yaml:"licence"`
	Sources   []string      `yaml:"sources"`
	PromptEN  string        `yaml:"prompt_en"`
	PromptZH  string        `yaml:"prompt_zh"`
	Options   []rawOption   `yaml:"options"`
	Items     []rawItem     `yaml:"items"`
	Total     *rawTotal     `yaml:"total"`
	Bands     []rawBand     `yaml:"bands"`
	Subscales []rawSubscale `yaml:"subscales"`
	Alerts    []rawRule     `yaml:"alerts"`
}

type rawOption struct {
	Score *float64 `yaml:"score"`
	EN    string   `yaml:"en"`
	ZH    string   `yaml:"zh"`
}

type rawItem struct {
	ID      int         `yaml:"id"`
	EN      string      `yaml:"en"`
	ZH      string      `yaml:"zh"`
	Reverse bool        `yaml:"reverse"`
	Options []rawOption `yaml:"options"`
}

type rawFormula struct {
	Method   string   `yaml:"method"`
	Factor   *float64 `yaml:"factor"`
	Decimals *int     `yaml:"decimals"`
	Round    string   `yaml:"round"`
}

type rawTotal struct {
	rawFormula `yaml:",inline"`
	Min        *float64 `yaml:"min"`
	Max        *float64 `yaml:"max"`
}

type rawBand struct {
	From *float64 `yaml:"from"`
	To   *float64 `yaml:"to"`
	ID   string   `yaml:"id"`
	EN   string   `yaml:"en"`
	ZH   string   `yaml:"zh"`
}

type rawSubscale struct {
	rawFormula `yaml:",inline"`
	ID         string `yaml:"id"`
	EN         string `yaml:"en"`
	ZH         string `yaml:"zh"`
	Items      []int  `yaml:"items"`
}

type rawRule struct {
	Item    int      `yaml:"item"`
	AtLeast *float64 `yaml:"at_least"`
	Kind    string   `yaml:"kind"`
	EN      string   `yaml:"en"`
	ZH      string   `yaml:"zh"`
}

var kind = yamlfile.Kind{Noun: "scale", Needs: "id, title_en, title_zh, licensed, licence, sources, options, items, total and bands",
	Size: "a few KiB", MaxSize: MaxFileSize,
	Raw: []any{rawScale{}, rawOption{}, rawItem{}, rawFormula{}, rawTotal{}, rawBand{}, rawSubscale{}, rawRule{}}}

var (
	idRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	kindRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// Decode decodes and checks one scale file's bytes. The error, if any, is a
// yamlfile.Errors listing every mistake found, each with its line.
func Decode(file string, data []byte) (*Scale, error) {
	var raw rawScale
	doc, ok := yamlfile.Decode(file, data, kind, &raw)
	if !ok {
		return nil, doc.Err()
	}
	s := check(doc, &raw)
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// text requires a non-blank text at path.
func text(d *yamlfile.Doc, value, field string, path ...any) {
	if strings.TrimSpace(value) == "" && !d.Reported(field) {
		d.Addf(d.Line(path...), field, "missing; this field is required")
	}
}

func check(d *yamlfile.Doc, raw *rawScale) *Scale {
	s := &Scale{ID: raw.ID, TitleEN: raw.TitleEN, TitleZH: raw.TitleZH, Licence: strings.TrimSpace(raw.Licence),
		Sources: raw.Sources, PromptEN: raw.PromptEN, PromptZH: raw.PromptZH, File: d.File}
	d.ID(raw.ID)
	d.Required("title_en", raw.TitleEN)
	d.Required("title_zh", raw.TitleZH)
	d.Required("licence", raw.Licence)
	if raw.Licensed == nil {
		if !d.Has("licensed") {
			d.Addf(d.Line(), "licensed", "missing; say licensed: true for a scale a site may use only under licence (it is off until an admin enables it), false for a free one")
		}
	} else {
		s.Licensed = *raw.Licensed
	}
	if len(raw.Sources) == 0 && !d.TypeErrorAt(d.Line("sources")) {
		d.Addf(d.Line("sources"), "sources", "missing; cite the published source of the items and the scoring")
	}
	for i, src := range raw.Sources {
		text(d, src, fmt.Sprintf("sources[%d]", i), "sources", i)
	}

	shared := options(d, raw.Options, "options", "options")
	if len(raw.Items) == 0 && !d.TypeErrorAt(d.Line("items")) {
		d.Addf(d.Line("items"), "items", "missing; a scale needs at least one item")
	}
	seen := map[int]bool{}
	for i, ri := range raw.Items {
		field := fmt.Sprintf("items[%d]", i)
		it := Item{ID: ri.ID, EN: ri.EN, ZH: ri.ZH, Reverse: ri.Reverse, Options: shared}
		switch {
		case ri.ID <= 0:
			d.Addf(d.Line("items", i), field+".id", "missing or not a positive whole number; number the items 1, 2, 3 ... as on the form")
		case seen[ri.ID]:
			d.Addf(d.Line("items", i, "id"), field+".id", "item %d appears twice", ri.ID)
		}
		seen[ri.ID] = true
		text(d, ri.EN, field+".en", "items", i, "en")
		text(d, ri.ZH, field+".zh", "items", i, "zh")
		if len(ri.Options) > 0 {
			it.Options = options(d, ri.Options, field+".options", "items", i, "options")
		} else if len(raw.Options) == 0 {
			d.Addf(d.Line("items", i), field+".options", "no options: give the scale's options, or the item's own")
		}
		s.Items = append(s.Items, it)
	}

	if raw.Total == nil {
		if !d.TypeErrorAt(d.Line("total")) {
			d.Addf(d.Line(), "total", "missing; say how the total is formed (method: sum or mean, min, max)")
		}
		return s
	}
	s.Total = formula(d, raw.Total.rawFormula, "total", "total")
	if raw.Total.Min == nil || raw.Total.Max == nil {
		d.Addf(d.Line("total"), "total", "give min and max: the range of the total, as the published scoring states it")
		return s
	}
	s.Min, s.Max = *raw.Total.Min, *raw.Total.Max
	all := make([]int, len(s.Items))
	for i, it := range s.Items {
		all[i] = it.ID
	}
	if len(s.Items) > 0 && len(d.Errs) == 0 {
		if lo, hi := s.Total.reach(s, all); lo != s.Min || hi != s.Max {
			d.Addf(d.Line("total"), "total", "the items give totals from %s to %s, not %s to %s: check the options' scores, the method and the factor",
				trim(lo), trim(hi), trim(s.Min), trim(s.Max))
		}
	}

	step := math.Pow(10, -float64(s.Total.Decimals))
	bandIDs := map[string]bool{}
	if len(raw.Bands) == 0 && !d.TypeErrorAt(d.Line("bands")) {
		d.Addf(d.Line("bands"), "bands", "missing; give the bands of the total with their cut-offs")
	}
	for i, rb := range raw.Bands {
		field := fmt.Sprintf("bands[%d]", i)
		if rb.From == nil || rb.To == nil {
			d.Addf(d.Line("bands", i), field, "give from and to (both included)")
			continue
		}
		b := Band{From: *rb.From, To: *rb.To, ID: rb.ID, EN: rb.EN, ZH: rb.ZH}
		if !idRE.MatchString(b.ID) {
			d.Addf(d.Line("bands", i), field+".id", "%q: give the band an id of lower-case letters, digits and '-' (like moderate)", b.ID)
		} else if bandIDs[b.ID] {
			d.Addf(d.Line("bands", i), field+".id", "band %q appears twice", b.ID)
		}
		bandIDs[b.ID] = true
		text(d, b.EN, field+".en", "bands", i, "en")
		text(d, b.ZH, field+".zh", "bands", i, "zh")
		if b.From > b.To {
			d.Addf(d.Line("bands", i), field, "from %s is above to %s", trim(b.From), trim(b.To))
		}
		if i == 0 && b.From != s.Min {
			d.Addf(d.Line("bands", i), field+".from", "the first band starts at %s, not at the total's min %s", trim(b.From), trim(s.Min))
		}
		if i > 0 && len(s.Bands) > 0 {
			prev := s.Bands[len(s.Bands)-1]
			if gap := b.From - prev.To; math.Abs(gap-step) > step/1000 {
				d.Addf(d.Line("bands", i), field+".from", "starts at %s but the band before ends at %s: bands must follow each other with no gap or overlap (next from = %s)",
					trim(b.From), trim(prev.To), trim(prev.To+step))
			}
		}
		if i == len(raw.Bands)-1 && b.To != s.Max {
			d.Addf(d.Line("bands", i), field+".to", "the last band ends at %s, not at the total's max %s", trim(b.To), trim(s.Max))
		}
		s.Bands = append(s.Bands, b)
	}

	for i, rs := range raw.Subscales {
		field := fmt.Sprintf("subscales[%d]", i)
		sub := Subscale{ID: rs.ID, EN: rs.EN, ZH: rs.ZH, Items: rs.Items, Formula: formula(d, rs.rawFormula, field, "subscales", i)}
		if !idRE.MatchString(sub.ID) {
			d.Addf(d.Line("subscales", i), field+".id", "%q: give the subscale an id of lower-case letters, digits and '-'", sub.ID)
		}
		text(d, sub.EN, field+".en", "subscales", i, "en")
		text(d, sub.ZH, field+".zh", "subscales", i, "zh")
		if len(sub.Items) == 0 {
			d.Addf(d.Line("subscales", i), field+".items", "missing; list the items the subscale counts")
		}
		for _, id := range sub.Items {
			if !seen[id] {
				d.Addf(d.Line("subscales", i, "items"), field+".items", "no item %d in this scale", id)
			}
		}
		s.Subscales = append(s.Subscales, sub)
	}

	for i, rr := range raw.Alerts {
		field := fmt.Sprintf("alerts[%d]", i)
		r := Rule{Item: rr.Item, Kind: rr.Kind, EN: rr.EN, ZH: rr.ZH}
		it, ok := s.Item(rr.Item)
		if !ok {
			d.Addf(d.Line("alerts", i), field+".item", "no item %d in this scale", rr.Item)
		}
		if rr.AtLeast == nil {
			d.Addf(d.Line("alerts", i), field+".at_least", "missing; the least answer score that raises the alert")
		} else {
			r.AtLeast = *rr.AtLeast
			if lo, hi := optionRange(it.Options); ok && (r.AtLeast <= lo || r.AtLeast > hi) {
				d.Addf(d.Line("alerts", i), field+".at_least", "%s: item %d's answers score %s to %s; the alert must be above the lowest and at most the highest",
					trim(r.AtLeast), rr.Item, trim(lo), trim(hi))
			}
		}
		if !kindRE.MatchString(r.Kind) {
			d.Addf(d.Line("alerts", i), field+".kind", "%q: name the alert in lower case with '_' (like self_harm)", r.Kind)
		}
		text(d, r.EN, field+".en", "alerts", i, "en")
		text(d, r.ZH, field+".zh", "alerts", i, "zh")
		s.Alerts = append(s.Alerts, r)
	}
	return s
}

// options checks a list of answer options.
func options(d *yamlfile.Doc, raw []rawOption, field string, path ...any) []Option {
	if len(raw) == 1 {
		d.Addf(d.Line(path...), field, "one option is no choice; give two or more")
	}
	var out []Option
	scores := map[float64]bool{}
	for i, ro := range raw {
		f := fmt.Sprintf("%s[%d]", field, i)
		p := append(append([]any{}, path...), i)
		if ro.Score == nil {
			d.Addf(d.Line(p...), f+".score", "missing; the score of this answer as the form prints it")
			continue
		}
		if scores[*ro.Score] {
			d.Addf(d.Line(p...), f+".score", "score %s is given to two options", trim(*ro.Score))
		}
		scores[*ro.Score] = true
		text(d, ro.EN, f+".en", append(p, "en")...)
		text(d, ro.ZH, f+".zh", append(p, "zh")...)
		out = append(out, Option{Score: *ro.Score, EN: ro.EN, ZH: ro.ZH})
	}
	return out
}

// formula checks how a figure is formed; unset, it is a sum, factor 1,
// whole numbers for a sum and two decimals for a mean, rounded to nearest.
func formula(d *yamlfile.Doc, raw rawFormula, field string, path ...any) Formula {
	f := Formula{Method: raw.Method, Factor: 1, Round: raw.Round}
	switch f.Method {
	case "sum", "":
		f.Method = "sum"
	case "mean":
		f.Decimals = 2
	default:
		d.Addf(d.Line(append(path, "method")...), field+".method", "%q: use sum or mean", raw.Method)
	}
	if raw.Factor != nil {
		if *raw.Factor <= 0 || math.IsInf(*raw.Factor, 0) || math.IsNaN(*raw.Factor) {
			d.Addf(d.Line(append(path, "factor")...), field+".factor", "%s: the factor multiplies the raw figure and must be above 0", trim(*raw.Factor))
		} else {
			f.Factor = *raw.Factor
		}
	}
	if raw.Decimals != nil {
		if *raw.Decimals < 0 || *raw.Decimals > 3 {
			d.Addf(d.Line(append(path, "decimals")...), field+".decimals", "%d: use 0 to 3 decimal places", *raw.Decimals)
		} else {
			f.Decimals = *raw.Decimals
		}
	}
	switch f.Round {
	case "", "nearest":
		f.Round = "nearest"
	case "down":
	default:
		d.Addf(d.Line(append(path, "round")...), field+".round", "%q: use nearest or down", raw.Round)
	}
	return f
}
