package sessions

import (
	"encoding/json"
	"testing"
)

// Every template is a plan the engine accepts, and the treatment plans
// rate their cue levels.
func TestTemplates(t *testing.T) {
	seen := map[string]bool{}
	for _, tp := range Templates {
		if seen[tp.ID] || tp.TitleEN == "" || tp.TitleZH == "" || tp.Course < 1 {
			t.Errorf("template %+v", tp)
		}
		seen[tp.ID] = true
		raw, _ := json.Marshal(tp.Plan)
		if _, err := DecodePlan(raw); err != nil {
			t.Errorf("%s: %v", tp.ID, err)
		}
	}
	for _, id := range []string{"cue-assessment", "counter-conditioning"} {
		rated := 0
		for _, tp := range Templates {
			for _, st := range tp.Plan.Steps {
				if tp.ID == id && st.Program == "cue-assessment" && st.Rating {
					rated++
				}
			}
		}
		if rated == 0 {
			t.Errorf("%s has no rated cue step", id)
		}
	}
}
