package figures

import (
	"strings"
	"testing"
)

func TestShelf(t *testing.T) {
	fs := All()
	if len(fs) < 100 {
		t.Errorf("%d figures; the shelf needs at least 100", len(fs))
	}
	seen := map[string]bool{}
	perCat := map[string]int{}
	for _, f := range fs {
		if seen[f.ID] || f.TitleEN == "" || f.TitleZH == "" || f.Shape == "" || !strings.HasPrefix(f.Color, "#") || f.Size <= 0 {
			t.Errorf("figure %+v (duplicate: %v)", f, seen[f.ID])
		}
		seen[f.ID] = true
		perCat[f.Category]++
	}
	for _, c := range Categories {
		if perCat[c.ID] < 4 {
			t.Errorf("category %s has %d figures", c.ID, perCat[c.ID])
		}
	}
	if len(perCat) != len(Categories) {
		t.Errorf("figures in %d categories, %d listed", len(perCat), len(Categories))
	}
}

func TestCheck(t *testing.T) {
	if err := Check("lion"); err != nil {
		t.Errorf("lion: %v", err)
	}
	if err := Check("unicorn-robot"); err == nil || !strings.Contains(err.Error(), `no figure "unicorn-robot" on the shelf`) {
		t.Errorf("unknown figure: %v", err)
	}
}
