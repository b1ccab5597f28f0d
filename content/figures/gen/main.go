// Command gen curates the sandtray's figure library: it reads emojibase's
// CLDR names and search words (Chinese and English) and the pictures of
// Microsoft's Fluent Emoji 3D, both installed by `make figures` from npm,
// keeps what a sandplay shelf holds (people, animals, buildings, vehicles,
// plants, household things...), leaves out flags, keycaps, hand gestures,
// clock faces and interface symbols, sorts each kept emoji into a sandplay
// category and writes catalogue.tsv, which is committed: figure ids are
// stored in trays, so the catalogue changes only when this is run again.
//
//	go run ./content/figures/gen [-npm content/figures/npm/node_modules] [-out content/figures/catalogue.tsv]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// emoji is one entry of emojibase-data's data.json.
type emoji struct {
	Label    string   `json:"label"`
	Hexcode  string   `json:"hexcode"`
	Tags     []string `json:"tags"`
	Group    *int     `json:"group"`
	Subgroup *int     `json:"subgroup"`
	Skins    []struct {
		Label   string          `json:"label"`
		Hexcode string          `json:"hexcode"`
		Tone    json.RawMessage `json:"tone"`
	} `json:"skins"`
}

// row is one figure of the catalogue.
type row struct {
	id, cat, file string
	size          float64
	en, zh        string
	wordsEN       []string
	wordsZH       []string
	base          string
}

// categories, in shelf order, with the subgroups that fill them.
var bySubgroup = map[string]string{
	"person": "people", "person-gesture": "people", "person-activity": "people", "person-resting": "people", "person-symbol": "people",
	"family":       "family",
	"person-role":  "roles",
	"person-sport": "play", "event": "play", "award-medal": "play", "sport": "play", "game": "play", "arts-crafts": "play",
	"person-fantasy": "fantasy", "face-costume": "fantasy",
	"animal-mammal": "wild", "animal-reptile": "wild", "animal-amphibian": "wild",
	"animal-marine": "sea", "animal-bird": "birds", "animal-bug": "insects",
	"plant-flower": "plants", "plant-other": "plants",
	"food-fruit": "food", "food-vegetable": "food", "food-prepared": "food", "food-asian": "food", "food-sweet": "food", "drink": "food", "dishware": "food",
	"place-building": "buildings", "place-other": "buildings", "hotel": "buildings",
	"place-religious": "spiritual", "religion": "spiritual",
	"place-geographic": "nature", "place-map": "nature", "sky-weather": "nature",
	"transport-ground": "vehicles", "transport-water": "vehicles", "transport-air": "vehicles",
	"household": "household", "other-object": "household", "light-video": "household", "phone": "household", "computer": "household",
	"book-paper": "household", "money": "household", "mail": "household", "writing": "household", "office": "household", "lock": "household",
	"tool": "household", "science": "household", "medical": "household", "time": "household",
	"clothing": "clothes",
	"music":    "music", "musical-instrument": "music", "sound": "music",
	"face-smiling": "feelings", "face-affection": "feelings", "face-tongue": "feelings", "face-hand": "feelings", "face-neutral-skeptical": "feelings",
	"face-sleepy": "feelings", "face-unwell": "feelings", "face-hat": "feelings", "face-glasses": "feelings", "face-concerned": "feelings",
	"face-negative": "feelings", "heart": "feelings", "emotion": "feelings",
}

// byLabel moves single emoji to the category a sandplay therapist looks
// in ("" leaves it out).
var byLabel = map[string]string{
	// helpers and authority
	"health worker": "helpers", "man health worker": "helpers", "woman health worker": "helpers", "judge": "helpers", "man judge": "helpers",
	"woman judge": "helpers", "firefighter": "helpers", "man firefighter": "helpers", "woman firefighter": "helpers", "police officer": "helpers",
	"man police officer": "helpers", "woman police officer": "helpers", "detective": "helpers", "man detective": "helpers", "woman detective": "helpers",
	"guard": "helpers", "man guard": "helpers", "woman guard": "helpers", "teacher": "helpers", "man teacher": "helpers", "woman teacher": "helpers",
	"ambulance": "helpers", "fire engine": "helpers", "police car": "helpers", "oncoming police car": "helpers", "police car light": "helpers",
	"hospital": "helpers", "classical building": "helpers", "school": "helpers", "stethoscope": "helpers", "balance scale": "helpers",
	// domestic animals
	"dog": "domestic", "guide dog": "domestic", "service dog": "domestic", "poodle": "domestic", "cat": "domestic", "black cat": "domestic",
	"horse": "domestic", "donkey": "domestic", "ox": "domestic", "water buffalo": "domestic", "cow": "domestic", "pig": "domestic", "ram": "domestic",
	"ewe": "domestic", "goat": "domestic", "llama": "domestic", "mouse": "domestic", "hamster": "domestic", "rabbit": "domestic",
	"turkey": "domestic", "chicken": "domestic", "rooster": "domestic", "hatching chick": "domestic", "baby chick": "domestic",
	"front-facing baby chick": "domestic", "duck": "domestic", "goose": "domestic", "camel": "domestic", "two-hump camel": "domestic",
	// prehistoric and fantasy
	"dragon": "fantasy", "sauropod": "fantasy", "T-Rex": "fantasy", "mammoth": "fantasy", "dodo": "fantasy", "unicorn": "fantasy",
	"phoenix": "fantasy", "skull": "fantasy", "skull and crossbones": "fantasy", "crystal ball": "fantasy", "jack-o-lantern": "fantasy",
	"magic wand": "fantasy", "pile of poo": "feelings",
	// landscape, rocks and shells
	"rock": "nature", "wood": "nature", "spiral shell": "nature", "coral": "nature", "fallen leaf": "plants", "mushroom": "plants",
	"hole": "nature", "footprints": "nature", "paw prints": "nature", "feather": "birds", "nest with eggs": "birds", "empty nest": "birds",
	"foggy": "nature", "night with stars": "nature", "sunrise over mountains": "nature", "sunrise": "nature", "sunset": "nature",
	"cityscape": "buildings", "cityscape at dusk": "buildings", "hot springs": "nature", "milky way": "nature",
	// roads, bridges, walls
	"bridge at night": "roads", "motorway": "roads", "railway track": "roads", "bus stop": "roads", "fuel pump": "roads", "oil drum": "roads",
	"horizontal traffic light": "roads", "vertical traffic light": "roads", "stop sign": "roads", "construction": "roads", "wheel": "roads",
	"station": "roads", "brick": "roads", "ladder": "roads", "door": "roads", "window": "roads", "chains": "roads", "broken chain": "roads",
	"link": "roads", "locked": "roads", "locked with key": "roads", "key": "roads", "old key": "roads", "anchor": "roads", "barber pole": "buildings",
	// spiritual symbols
	"candle": "spiritual", "diya lamp": "spiritual", "nazar amulet": "spiritual", "hamsa": "spiritual", "moai": "spiritual", "coffin": "spiritual",
	"headstone": "spiritual", "funeral urn": "spiritual", "prayer beads": "spiritual", "red paper lantern": "spiritual", "lotus": "spiritual",
	"folded hands": "spiritual", "angel": "spiritual", "baby angel": "spiritual", "tanabata tree": "spiritual", "wind chime": "spiritual",
	"moon viewing ceremony": "spiritual", "pine decoration": "spiritual", "Christmas tree": "spiritual",
	// weapons: shown only where the site enables them
	"dagger": "weapons", "crossed swords": "weapons", "water pistol": "weapons", "bow and arrow": "weapons", "bomb": "weapons", "axe": "weapons",
	"kitchen knife": "weapons", "boomerang": "weapons", "shield": "weapons", "military helmet": "weapons", "firecracker": "weapons",
	// not figures: body parts and interface-like things
	"pig nose": "", "wing": "", "speaking head": "", "fingerprint": "", "placard": "", "identification card": "", "hundred points": "",
	"eye in speech bubble": "", "left speech bubble": "", "right anger bubble": "", "speech balloon": "", "thought balloon": "", "ZZZ": "",
	"admission tickets": "", "ticket": "", "reminder ribbon": "", "thermometer": "household", "pager": "", "fax machine": "", "floppy disk": "",
	"optical disk": "", "dvd": "", "computer disk": "", "abacus": "", "videocassette": "", "film frames": "", "joystick": "", "trackball": "",
	"computer mouse": "", "keyboard": "", "printer": "", "battery": "", "low battery": "", "electric plug": "", "minidisc": "", "bar chart": "",
	"chart increasing": "", "chart decreasing": "", "chart increasing with yen": "", "card index": "", "card index dividers": "", "spiral calendar": "",
	"tear-off calendar": "", "calendar": "", "spiral notepad": "", "bookmark tabs": "", "bookmark": "", "label": "", "page with curl": "",
	"page facing up": "", "e-mail": "", "incoming envelope": "", "envelope with arrow": "", "outbox tray": "", "inbox tray": "", "package": "household",
	"open mailbox with raised flag": "", "open mailbox with lowered flag": "", "closed mailbox with lowered flag": "", "closed mailbox with raised flag": "",
	"postbox": "roads", "ballot box with ballot": "", "mobile phone with arrow": "", "pushpin": "", "round pushpin": "", "paperclip": "",
	"linked paperclips": "", "straight ruler": "", "triangular ruler": "", "file folder": "", "open file folder": "", "card file box": "",
	"file cabinet": "", "wastebasket": "household", "clipboard": "", "memo": "", "mute": "", "speaker low volume": "", "speaker medium volume": "",
	"speaker high volume": "", "bell with slash": "", "musical score": "", "musical note": "", "musical notes": "", "level slider": "", "control knobs": "",
	"studio microphone": "music", "bell": "spiritual", "postal horn": "music", "loudspeaker": "helpers", "megaphone": "helpers",
	"money with wings": "", "credit card": "", "receipt": "", "yen banknote": "", "dollar banknote": "", "euro banknote": "", "pound banknote": "",
	"new moon face": "", "first quarter moon face": "", "last quarter moon face": "", "full moon face": "", "sun with face": "", "wind face": "",
	"sparkles": "", "dizzy": "", "collision": "", "sweat droplets": "", "dashing away": "", "anger symbol": "", "kiss mark": "",
	"mobile phone off": "", "vibration mode": "", "no mobile phones": "", "cyclone": "nature", "high voltage": "nature",
	"magnifying glass tilted right": "", "film projector": "", "clapper board": "", "camera with flash": "", "video camera": "",
	"magnifying glass tilted left": "household", "hourglass done": "household", "hourglass not done": "household", "watch": "household",
	"alarm clock": "household", "stopwatch": "", "timer clock": "", "mantelpiece clock": "household",
	"bust in silhouette": "", "busts in silhouette": "", "circus tent": "buildings", "carousel horse": "play", "playground slide": "play",
	"ferris wheel": "play", "roller coaster": "play", "fountain": "buildings", "tent": "nature", "camping": "nature",
	"medical symbol": "", "ophiuchus": "", "spade suit": "", "heart suit": "", "diamond suit": "", "club suit": "", "globe with meridians": "",
	"locked with pen": "", "unlocked": "", "place of worship": "", "heart decoration": "", "heart exclamation": "", "menorah": "spiritual", "atom symbol": "", "peace symbol": "spiritual",
}

// skip leaves out what is neither a figure nor wanted twice: animal and
// moon faces where the whole figure is on the shelf, clock faces, and the
// keep-left-right doublets ("oncoming bus").
func skip(label string) bool {
	switch {
	case strings.HasSuffix(label, " face") && !strings.Contains(label, "clown") && !strings.HasPrefix(label, "face "):
		// "dog face", "tiger face": the whole animal is on the shelf.
		for _, kept := range []string{"monkey", "dog", "cat", "tiger", "horse", "cow", "pig", "mouse", "rabbit", "dragon", "wind", "sun with", "full moon", "new moon", "first quarter moon", "last quarter moon"} {
			if strings.HasPrefix(label, kept) {
				return true
			}
		}
	case strings.HasPrefix(label, "oncoming "):
		return true
	case strings.Contains(label, "o’clock") || strings.Contains(label, "-thirty"):
		return true
	case strings.HasSuffix(label, " moon") && label != "crescent moon" && label != "full moon":
		return true // the moon's eight phases: two are enough on a shelf
	}
	return false
}

// size is a category's footprint beside an adult figure (1).
var size = map[string]float64{
	"people": 1, "family": 1.2, "roles": 1, "helpers": 1, "play": 0.8, "fantasy": 1.1, "wild": 1, "domestic": 0.8, "sea": 0.8, "birds": 0.6,
	"insects": 0.45, "plants": 1.2, "food": 0.45, "buildings": 2, "spiritual": 0.8, "nature": 1.6, "vehicles": 1.3, "roads": 1.4,
	"household": 0.6, "clothes": 0.5, "music": 0.6, "feelings": 0.7, "weapons": 0.6,
}

// sizeOf lets the largest and smallest animals and plants stand out.
var sizeOf = map[string]float64{
	"elephant": 1.7, "mammoth": 1.8, "whale": 1.8, "spouting whale": 1.8, "T-Rex": 1.8, "sauropod": 1.9, "giraffe": 1.7, "rhinoceros": 1.4,
	"hippopotamus": 1.4, "dragon": 1.6, "mouse": 0.45, "rat": 0.5, "hamster": 0.45, "chipmunk": 0.5, "hedgehog": 0.5, "rabbit": 0.55,
	"deciduous tree": 1.8, "evergreen tree": 1.8, "palm tree": 1.8, "cactus": 1.3, "bamboo": 1.5, "herb": 0.6, "four leaf clover": 0.5,
	"sheaf of rice": 0.8, "mountain": 2.2, "snow-capped mountain": 2.2, "volcano": 2.2, "mount fuji": 2.2, "rock": 0.9, "spiral shell": 0.5,
	"coral": 0.7, "wood": 0.9, "hole": 0.8, "ship": 2, "passenger ship": 2, "airplane": 1.8, "train": 1.8, "locomotive": 1.6, "helicopter": 1.6,
	"bicycle": 1, "skateboard": 0.6, "kick scooter": 0.8, "manual wheelchair": 1, "motorized wheelchair": 1,
}

// titles mend English labels that CLDR writes in lower case.
var titles = map[string]string{"dna": "DNA", "mount fuji": "Mount Fuji", "T-Rex": "T-Rex"}

// zhTitles gives a Chinese title where CLDR's is not in Chinese.
var zhTitles = map[string]string{"DNA": "DNA 双螺旋"}

// tones are emojibase's skin tones 1-5, as id suffixes.
var tones = []string{"", "light", "medium-light", "medium", "medium-dark", "dark"}

var nonID = regexp.MustCompile(`[^a-z0-9]+`)

func slug(label string) string {
	s := strings.ToLower(label)
	s = strings.NewReplacer("’", "", "'", "", ":", "", ",", "", ".", "", "ñ", "n", "é", "e", "ç", "c", "ã", "a", "í", "i", "ô", "o", "å", "a").Replace(s)
	return strings.Trim(nonID.ReplaceAllString(s, "-"), "-")
}

// title is a label with a capital letter ("police officer" -> "Police officer").
func title(label string) string {
	if t, ok := titles[label]; ok {
		return t
	}
	if label == "" {
		return label
	}
	r := []rune(label)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// zhTitle turns CLDR's "警察: 中等-深肤色" into "警察（中等-深肤色）".
func zhTitle(label string) string {
	if a, b, ok := strings.Cut(label, ": "); ok {
		return a + "（" + b + "）"
	}
	return label
}

// enTitle turns "man: red hair" into "Man (red hair)".
func enTitle(label string) string {
	if a, b, ok := strings.Cut(label, ": "); ok {
		return title(a) + " (" + b + ")"
	}
	return title(label)
}

func load(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatalf("gen: %v (run make figures first)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("gen: %s: %v", path, err)
	}
}

func main() {
	npm := flag.String("npm", "content/figures/npm/node_modules", "where make figures installed the npm packages")
	out := flag.String("out", "content/figures/catalogue.tsv", "the catalogue to write")
	flag.Parse()
	var en, zh []emoji
	var groups struct {
		Subgroups map[string]string `json:"subgroups"`
	}
	load(filepath.Join(*npm, "emojibase-data/en/data.json"), &en)
	load(filepath.Join(*npm, "emojibase-data/zh/data.json"), &zh)
	load(filepath.Join(*npm, "emojibase-data/meta/groups.json"), &groups)
	assets := filepath.Join(*npm, "@lobehub/fluent-emoji-3d/assets")
	entries, err := os.ReadDir(assets)
	if err != nil {
		log.Fatalf("gen: %v", err)
	}
	files := map[string]bool{}
	for _, e := range entries {
		files[strings.TrimSuffix(e.Name(), ".webp")] = true
	}
	zhBy := map[string]emoji{}
	zhSkin := map[string]string{}
	for _, e := range zh {
		zhBy[e.Hexcode] = e
		for _, s := range e.Skins {
			zhSkin[s.Hexcode] = s.Label
		}
	}
	file := func(hex string) string {
		h := strings.ToLower(hex)
		for _, c := range []string{h, h + "-fe0f", strings.ReplaceAll(h, "-fe0f", "")} {
			if files[c] {
				return c + ".webp"
			}
		}
		return ""
	}
	var rows []row
	ids := map[string]bool{}
	add := func(r row) {
		if ids[r.id] {
			r.id += "-" + strings.TrimSuffix(r.file, ".webp")
		}
		ids[r.id] = true
		rows = append(rows, r)
	}
	for _, e := range en {
		if e.Group == nil || e.Subgroup == nil || skip(e.Label) {
			continue
		}
		cat, ok := byLabel[e.Label]
		if !ok {
			cat = bySubgroup[groups.Subgroups[fmt.Sprint(*e.Subgroup)]]
		}
		f := file(e.Hexcode)
		z := zhBy[e.Hexcode]
		if cat == "" || f == "" || z.Label == "" {
			continue
		}
		sz := size[cat]
		if s, ok := sizeOf[e.Label]; ok {
			sz = s
		}
		zt := z.Label
		if t, ok := zhTitles[zt]; ok {
			zt = t
		}
		base := row{id: slug(e.Label), cat: cat, file: f, size: sz, en: enTitle(e.Label), zh: zhTitle(zt), wordsEN: e.Tags, wordsZH: z.Tags}
		add(base)
		// People in five skin tones as well: a shelf has figures that look
		// like the people in a client's life. Mixed-tone couples are left out.
		for _, s := range e.Skins {
			var tone int
			if json.Unmarshal(s.Tone, &tone) != nil || tone < 1 || tone > 5 {
				continue
			}
			sf, sz2 := file(s.Hexcode), zhSkin[s.Hexcode]
			if sf == "" || sz2 == "" {
				continue
			}
			add(row{id: base.id + "-" + tones[tone], cat: cat, file: sf, size: sz, en: enTitle(s.Label), zh: zhTitle(sz2),
				wordsEN: e.Tags, wordsZH: z.Tags, base: base.id})
		}
	}
	order := []string{"people", "family", "roles", "helpers", "wild", "domestic", "sea", "birds", "insects", "fantasy", "buildings", "roads",
		"vehicles", "plants", "nature", "household", "food", "clothes", "music", "play", "spiritual", "feelings", "weapons"}
	slices.SortStableFunc(rows, func(a, b row) int { return slices.Index(order, a.cat) - slices.Index(order, b.cat) })
	var sb strings.Builder
	sb.WriteString("# id\tcategory\tfile\tsize\ttitle_en\ttitle_zh\twords_en\twords_zh\tbase\n")
	clean := func(s string) string { return strings.NewReplacer("\t", " ", "\n", " ", ";", ",").Replace(s) }
	join := func(ws []string) string {
		var out []string
		for _, w := range ws {
			out = append(out, clean(w))
		}
		return strings.Join(out, ";")
	}
	for _, r := range rows {
		if slices.Index(order, r.cat) < 0 {
			log.Fatalf("gen: %s: category %q is not in the shelf order", r.id, r.cat)
		}
		fmt.Fprintf(&sb, "%s\t%s\t%s\t%g\t%s\t%s\t%s\t%s\t%s\n", r.id, r.cat, r.file, r.size, clean(r.en), clean(r.zh), join(r.wordsEN), join(r.wordsZH), r.base)
	}
	if err := os.WriteFile(*out, []byte(sb.String()), 0o644); err != nil {
		log.Fatalf("gen: %v", err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.cat]++
	}
	fmt.Printf("gen: %d figures", len(rows))
	for _, c := range order {
		fmt.Printf(" %s:%d", c, counts[c])
	}
	fmt.Println()
}
