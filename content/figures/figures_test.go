package figures

import (
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestShelf: at least 1,500 figures, each with an id, a known category,
// both titles (the Chinese one in Chinese), a size and a picture file;
// every category holds figures.
func TestShelf(t *testing.T) {
	fs := All()
	if len(fs) < 1500 {
		t.Errorf("%d figures; the library needs at least 1,500", len(fs))
	}
	cats := map[string]bool{}
	for _, c := range Categories {
		cats[c.ID] = true
	}
	perCat := map[string]int{}
	for _, f := range fs {
		hasHan := strings.IndexFunc(f.TitleZH, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
		if f.ID == "" || !cats[f.Category] || f.TitleEN == "" || !hasHan || f.Size <= 0 || !strings.HasSuffix(f.File, ".webp") {
			t.Errorf("figure %+v", f)
		}
		perCat[f.Category]++
	}
	for _, c := range Categories {
		if perCat[c.ID] < 10 {
			t.Errorf("category %s has %d figures", c.ID, perCat[c.ID])
		}
	}
}

// TestPictures: every figure's picture is in this build (make figures),
// decodes as 256x256, and no two figures share a picture.
func TestPictures(t *testing.T) {
	seen := map[[32]byte]string{}
	for i, f := range All() {
		b, err := Picture(f.ID)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if other, dup := seen[sum]; dup {
			t.Errorf("%s and %s have the same picture", other, f.ID)
		}
		seen[sum] = f.ID
		if i%7 != 0 { // decoding all 2,400 under -race takes a minute; every 7th
			continue
		}
		img, err := Image(f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
			t.Errorf("%s: picture %v", f.ID, b)
		}
	}
}

// firstShelf is every id of the first shelf (before the library), as trays
// recorded then hold them.
var firstShelf = strings.Fields(`man woman old-man old-woman teenager worker farmer teacher soldier student prisoner judge
	baby boy girl mother father grandparents pregnant-woman siblings police-officer doctor nurse firefighter counsellor paramedic
	lion tiger bear wolf elephant giraffe snake monkey fox deer panda crocodile dog cat horse cow pig sheep rabbit chicken
	fish shark whale dolphin octopus turtle crab eagle owl dove crow swan parrot butterfly spider bee ant scorpion
	dinosaur dragon unicorn phoenix monster ghost mammoth house school hospital police-station prison temple castle tower factory
	stone-bridge rope-bridge road ladder gate car police-car ambulance bus train boat plane bicycle
	pine-tree willow dead-tree flower bamboo cactus bush stone boulder shell crystal pebbles
	wooden-fence stone-wall barbed-wire hedge table chair bed bottle phone clock mirror treasure-chest
	candle buddha angel cross yin-yang lotus heart`)

// TestReplaced: a tray recorded with the first shelf's ids replays: every
// id resolves to a figure of the library.
func TestReplaced(t *testing.T) {
	if len(firstShelf) != 124 {
		t.Fatalf("%d ids of the first shelf, it had 124", len(firstShelf))
	}
	for _, id := range firstShelf {
		if err := Check(id); err != nil {
			t.Errorf("first shelf's %s: %v", id, err)
		}
	}
	for from, to := range replaced {
		if _, own := byID[from]; own {
			t.Errorf("%s is replaced but is also in the library", from)
		}
		if _, ok := byID[to]; !ok {
			t.Errorf("%s is replaced by %s, which is not in the library", from, to)
		}
	}
	if f, _ := ByID("prisoner"); f.ID != "person-standing" {
		t.Errorf("prisoner reads as %s", f.ID)
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

func TestTones(t *testing.T) {
	ts := Tones("police-officer-dark")
	var ids []string
	for _, f := range ts {
		ids = append(ids, f.ID)
	}
	want := []string{"police-officer", "police-officer-light", "police-officer-medium-light", "police-officer-medium", "police-officer-medium-dark", "police-officer-dark"}
	if !slices.Equal(ids, want) {
		t.Errorf("tones: %v", ids)
	}
	if ts := Tones("lion"); len(ts) != 1 || ts[0].ID != "lion" {
		t.Errorf("lion's tones: %v", ts)
	}
	if f, _ := ByID("police-officer-dark"); f.TitleZH != "警察（较深肤色）" || f.TitleEN != "Police officer (dark skin tone)" {
		t.Errorf("titles: %q %q", f.TitleEN, f.TitleZH)
	}
}

func TestSearch(t *testing.T) {
	for _, c := range []struct{ q, first string }{
		{"狮子", "lion"}, {"Lion", "lion"}, {"警察", "police-officer"}, {"police", "police-officer"},
		{"沙漠", "desert"}, {"bridge", "bridge-at-night"}, {"蛇", "snake"},
	} {
		got := Search(c.q, 5)
		if len(got) == 0 || got[0].ID != c.first {
			t.Errorf("search %q: %v", c.q, got)
		}
	}
	for _, f := range Search("people", 0) {
		if f.Base != "" {
			t.Errorf("search lists tone %s", f.ID)
		}
	}
	if got := Search("   ", 5); got != nil {
		t.Errorf("empty search: %v", got)
	}
}

func TestCategoryIcons(t *testing.T) {
	for _, c := range Categories {
		f, ok := ByID(c.Icon)
		if !ok || f.Category != c.ID || c.ShortEN == "" || c.ShortZH == "" {
			t.Errorf("category %s: icon %q (%v, in %s)", c.ID, c.Icon, ok, f.Category)
		}
	}
}

// BenchmarkThumbnail is what a kiosk sprite or a report's picture costs:
// the WebP decoded and scaled.
func BenchmarkThumbnail(b *testing.B) {
	for b.Loop() {
		if _, err := Thumbnail("lion", 128); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for b.Loop() {
		if _, err := Image("lion"); err != nil {
			b.Fatal(err)
		}
	}
}
