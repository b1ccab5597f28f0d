// Package content is the catalogue of what the rooms play and show: VR
// programs, generated soundscapes and the music folder's tracks now;
// scenes and sandtray figures as their issues land. Everything is described
// here in Go, with titles in Chinese and English; nothing is downloaded at
// run time.
package content

import (
	"fmt"
	"slices"

	"waystation/content/figures"
	"waystation/content/soundscape"
)

// Kinds of catalogue item.
const (
	KindVRProgram  = "vr-program"
	KindSoundscape = "soundscape"
	KindTrack      = "track"
	// KindPlaylist is every track carrying a tag, played in turn.
	KindPlaylist = "playlist"
	// KindScene is a kiosk relaxation scene; KindFigure a sandtray figure.
	KindScene  = "scene"
	KindFigure = "figure"
)

// Purposes of a VR program.
const (
	PurposeRelaxation = "relaxation"
	PurposeAssessment = "assessment"
	// PurposeImagery programs pair cues with imagined consequences, aversive
	// or positive, in counter-conditioning treatment.
	PurposeImagery = "imagery"
)

// Item is one entry of the catalogue, as GET /v1/content lists it.
type Item struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	TitleEN string   `json:"title_en"`
	TitleZH string   `json:"title_zh"`
	Tags    []string `json:"tags,omitempty"`
	// Category, Image and Base describe sandtray figures: the shelf's
	// section, the URL of the picture (set by the API) and, for a person in
	// a skin tone, the figure in the default tone.
	Category string `json:"category,omitempty"`
	Image    string `json:"image,omitempty"`
	Base     string `json:"base,omitempty"`
	// Purpose, DeviceKinds and Levels describe VR programs.
	Purpose     string   `json:"purpose,omitempty"`
	DeviceKinds []string `json:"device_kinds,omitempty"`
	Levels      []Level  `json:"levels,omitempty"`
	// DurationS is the item's length in seconds: a track's exact length, a
	// program's usual one.
	DurationS float64 `json:"duration_s,omitempty"`
	// Params are a soundscape's parameters.
	Params []soundscape.Param `json:"params,omitempty"`
	// File is a track's file in the music folder.
	File string `json:"file,omitempty"`
	// Items, Licensed and Enabled describe measurement scales: how many
	// items, whether the scale is used under licence, and whether it may be
	// used here (a licensed one is off until an admin enables it).
	Items    int   `json:"items,omitempty"`
	Licensed *bool `json:"licensed,omitempty"`
	Enabled  *bool `json:"enabled,omitempty"`
}

// Level is one intensity level of a VR program.
type Level struct {
	Level   int    `json:"level"`
	TitleEN string `json:"title_en"`
	TitleZH string `json:"title_zh"`
	// Rating names the rating the client is asked for at the end of the
	// level ("" for none), answered on Scale.
	Rating string `json:"rating,omitempty"`
	Scale  [2]int `json:"scale,omitzero"`
}

// vrKinds are the device kinds that run VR programs.
var vrKinds = []string{"vr-headset"}

// relaxLevels are the levels of a relaxation program: how much moves and
// sounds around the client.
var relaxLevels = []Level{
	{Level: 0, TitleEN: "Still scene, guided breathing", TitleZH: "静止场景，引导呼吸"},
	{Level: 1, TitleEN: "Gentle motion", TitleZH: "轻柔动态"},
	{Level: 2, TitleEN: "Full immersion", TitleZH: "完全沉浸"},
}

// craving is the rating asked at each level of a cue-exposure program: a
// 0-10 visual analogue scale.
func craving(level int, en, zh string) Level {
	return Level{Level: level, TitleEN: en, TitleZH: zh, Rating: "craving", Scale: [2]int{0, 10}}
}

var catalogue = []Item{
	{ID: "beach", Kind: KindVRProgram, TitleEN: "Beach at sunset", TitleZH: "日落海滩", Tags: []string{"calming"},
		Purpose: PurposeRelaxation, DeviceKinds: vrKinds, Levels: relaxLevels, DurationS: 600},
	{ID: "forest", Kind: KindVRProgram, TitleEN: "Forest walk", TitleZH: "林间漫步", Tags: []string{"calming"},
		Purpose: PurposeRelaxation, DeviceKinds: vrKinds, Levels: relaxLevels, DurationS: 600},
	{ID: "mountain-lake", Kind: KindVRProgram, TitleEN: "Mountain lake", TitleZH: "山间湖泊", Tags: []string{"calming", "sleep"},
		Purpose: PurposeRelaxation, DeviceKinds: vrKinds, Levels: relaxLevels, DurationS: 600},
	{ID: "cue-assessment", Kind: KindVRProgram, TitleEN: "Cue-reactivity assessment", TitleZH: "线索反应评估", Tags: []string{"assessment"},
		Purpose: PurposeAssessment, DeviceKinds: vrKinds, DurationS: 1200, Levels: []Level{
			craving(0, "Neutral baseline", "中性基线"),
			craving(1, "Cue level 1: reminders at a distance", "线索1级：远处的提示物"),
			craving(2, "Cue level 2: paraphernalia", "线索2级：相关用具"),
			craving(3, "Cue level 3: a place of use", "线索3级：使用场所"),
			craving(4, "Cue level 4: others using", "线索4级：他人使用"),
			craving(5, "Cue level 5: an offer", "线索5级：被邀请使用"),
		}},
	{ID: "imagery-consequences", Kind: KindVRProgram, TitleEN: "Imagery: the cost of using", TitleZH: "想象：使用的代价", Tags: []string{"treatment", "aversive"},
		Purpose: PurposeImagery, DeviceKinds: vrKinds, DurationS: 300, Levels: []Level{
			{Level: 0, TitleEN: "Narrated scenes: health, family, custody", TitleZH: "旁白场景：健康、家庭、羁押"},
		}},
	{ID: "imagery-future-self", Kind: KindVRProgram, TitleEN: "Imagery: a day in a drug-free future", TitleZH: "想象：无毒未来的一天", Tags: []string{"treatment", "positive"},
		Purpose: PurposeImagery, DeviceKinds: vrKinds, DurationS: 300, Levels: []Level{
			{Level: 0, TitleEN: "Narrated scenes: work, family, health", TitleZH: "旁白场景：工作、家庭、健康"},
		}},
}

// scenes are the kiosk's relaxation scenes, drawn procedurally.
var scenes = []Item{
	{ID: "sea", Kind: KindScene, TitleEN: "Sea", TitleZH: "大海", Tags: []string{"calming"}},
	{ID: "forest", Kind: KindScene, TitleEN: "Forest", TitleZH: "森林", Tags: []string{"calming"}},
	{ID: "rain", Kind: KindScene, TitleEN: "Rain", TitleZH: "雨", Tags: []string{"calming", "sleep"}},
	{ID: "night", Kind: KindScene, TitleEN: "Night sky", TitleZH: "夜空", Tags: []string{"sleep"}},
}

func init() {
	catalogue = append(catalogue, scenes...)
	for _, f := range figures.All() {
		catalogue = append(catalogue, FigureItem(f))
	}
	for _, s := range soundscape.List() {
		catalogue = append(catalogue, Item{ID: s.ID, Kind: KindSoundscape, TitleEN: s.TitleEN, TitleZH: s.TitleZH,
			Tags: s.Tags, Params: s.Params})
	}
}

// FigureItem is a sandtray figure as a catalogue item.
func FigureItem(f figures.Figure) Item {
	return Item{ID: f.ID, Kind: KindFigure, TitleEN: f.TitleEN, TitleZH: f.TitleZH, Category: f.Category, Base: f.Base}
}

// List returns the built-in catalogue (VR programs and soundscapes; the
// music folder's tracks are listed by package music), optionally only items
// of one kind.
func List(kind string) []Item {
	out := []Item{}
	for _, it := range catalogue {
		if kind == "" || it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// Get returns the VR program with an id. (Ids are unique within a kind:
// the scene "sea" and the soundscape "sea" are two items.)
func Get(id string) (Item, bool) { return GetKind(KindVRProgram, id) }

// GetKind returns the item of a kind with an id.
func GetKind(kind, id string) (Item, bool) {
	for _, it := range catalogue {
		if it.Kind == kind && it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// CheckProgram refuses a VR program that is not in the catalogue, that a
// device of deviceKind cannot run ("" skips that check), or whose level
// does not exist.
func CheckProgram(id, deviceKind string, level int) error {
	it, ok := Get(id)
	if !ok {
		var ids []string
		for _, p := range List(KindVRProgram) {
			ids = append(ids, p.ID)
		}
		return fmt.Errorf("no VR program %q (known: %v)", id, ids)
	}
	if deviceKind != "" && !slices.Contains(it.DeviceKinds, deviceKind) {
		return fmt.Errorf("VR program %s runs on %v, not on a %s", id, it.DeviceKinds, deviceKind)
	}
	for _, l := range it.Levels {
		if l.Level == level {
			return nil
		}
	}
	return fmt.Errorf("VR program %s has no level %d (levels %d-%d)", id, level, it.Levels[0].Level, it.Levels[len(it.Levels)-1].Level)
}
