package content

import (
	"strings"
	"testing"
)

// The catalogue is well formed: ids unique within a kind, both titles,
// VR programs with levels in order and device kinds; the kiosk's scenes and
// the sandtray's figures are listed.
func TestScenesAndFigures(t *testing.T) {
	if n := len(List(KindScene)); n < 4 {
		t.Errorf("%d scenes", n)
	}
	if n := len(List(KindFigure)); n < 100 {
		t.Errorf("%d figures", n)
	}
	if it, ok := GetKind(KindScene, "sea"); !ok || it.TitleZH != "大海" {
		t.Errorf("scene sea: %+v", it)
	}
	if it, ok := Get("forest"); !ok || it.Kind != KindVRProgram {
		t.Errorf("Get(forest) = %+v: the VR program", it)
	}
}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, it := range List("") {
		if seen[it.Kind+"/"+it.ID] {
			t.Errorf("%s %s twice", it.Kind, it.ID)
		}
		seen[it.Kind+"/"+it.ID] = true
		if it.TitleEN == "" || it.TitleZH == "" {
			t.Errorf("%s: missing a title", it.ID)
		}
		if it.Kind != KindVRProgram {
			continue
		}
		if len(it.DeviceKinds) == 0 || len(it.Levels) == 0 {
			t.Errorf("%s: device kinds %v, levels %v", it.ID, it.DeviceKinds, it.Levels)
		}
		for i, l := range it.Levels {
			if l.Level != i || l.TitleEN == "" || l.TitleZH == "" {
				t.Errorf("%s level %d: %+v", it.ID, i, l)
			}
		}
	}
	for _, id := range []string{"beach", "forest", "mountain-lake", "cue-assessment"} {
		if !seen[KindVRProgram+"/"+id] {
			t.Errorf("no %s", id)
		}
	}
	cue, _ := Get("cue-assessment")
	if cue.Purpose != PurposeAssessment || len(cue.Levels) != 6 || cue.Levels[3].Rating != "craving" || cue.Levels[3].Scale != [2]int{0, 10} {
		t.Errorf("cue assessment %+v", cue)
	}
	for _, id := range []string{"imagery-consequences", "imagery-future-self"} {
		if it, _ := Get(id); it.Purpose != PurposeImagery {
			t.Errorf("%s: purpose %q", id, it.Purpose)
		}
	}
	if n := len(List(KindVRProgram)); n != 6 {
		t.Errorf("%d VR programs", n)
	}
	if n := len(List("sandtray-figure")); n != 0 {
		t.Errorf("%d items of an unknown kind", n)
	}
}

func TestCheckProgram(t *testing.T) {
	cases := []struct {
		id, kind string
		level    int
		want     string
	}{
		{"beach", "vr-headset", 0, ""},
		{"cue-assessment", "vr-headset", 5, ""},
		{"cue-assessment", "", 0, ""},
		{"moon", "vr-headset", 0, `no VR program "moon"`},
		{"beach", "kiosk", 0, "not on a kiosk"},
		{"cue-assessment", "vr-headset", 6, "no level 6 (levels 0-5)"},
		{"beach", "vr-headset", 3, "no level 3 (levels 0-2)"},
	}
	for _, tc := range cases {
		err := CheckProgram(tc.id, tc.kind, tc.level)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckProgram(%s, %s, %d) = %v, want %q", tc.id, tc.kind, tc.level, err, tc.want)
		}
	}
}
