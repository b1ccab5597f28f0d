// Package figures is the sandtray's shelf: every miniature a client can
// place, with its category, titles and search words in Chinese and
// English, its size and its picture. It is catalogue data: the kiosk draws
// from it, the tray model checks placements against it, the report and the
// console name and draw figures by it. It imports nothing of the project.
//
// The list is catalogue.tsv, made by gen from Unicode's CLDR names
// (emojibase-data) and committed, since trays store figure ids. The
// pictures are Microsoft's Fluent Emoji 3D (MIT), copied into library/ by
// `make figures` from npm at build time and embedded; LICENSES.md.
package figures

import (
	"bytes"
	"embed"
	"fmt"
	"image"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Figure is a miniature on the shelf.
type Figure struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	TitleEN  string `json:"title_en"`
	TitleZH  string `json:"title_zh"`
	// Words are search words, English then Chinese (CLDR annotations).
	Words []string `json:"words,omitempty"`
	// Size is its footprint relative to an adult figure (1).
	Size float64 `json:"size"`
	// File is its picture's name in the library (a 256x256 WebP).
	File string `json:"-"`
	// Base is, for a person in one of five skin tones, the id of the
	// figure in the default tone; empty otherwise.
	Base string `json:"base,omitempty"`
}

// Category is a section of the shelf.
type Category struct {
	ID, TitleEN, TitleZH string
	// ShortEN and ShortZH name its tab on the kiosk's shelf.
	ShortEN, ShortZH string
	// Icon is the figure its tab shows.
	Icon string
	// Restricted categories are shown only where the site enables them.
	Restricted bool
}

// Categories are the shelf's sections, in the order they are shown.
var Categories = []Category{
	{"people", "People", "人物", "People", "人物", "person", false},
	{"family", "Family and couples", "家庭与伴侣", "Family", "家庭", "family-man-woman-girl-boy", false},
	{"roles", "Work and roles", "职业与角色", "Work", "职业", "farmer", false},
	{"helpers", "Police, care and authority", "警察、医护与权威", "Helpers", "警察医护", "police-officer", false},
	{"wild", "Wild animals", "野生动物", "Wild", "野生动物", "lion", false},
	{"domestic", "Farm animals and pets", "家畜与宠物", "Farm, pets", "家畜宠物", "dog", false},
	{"sea", "Sea creatures", "海洋生物", "Sea", "海洋", "dolphin", false},
	{"birds", "Birds", "鸟类", "Birds", "鸟类", "eagle", false},
	{"insects", "Insects", "昆虫", "Insects", "昆虫", "butterfly", false},
	{"fantasy", "Prehistoric and fantasy", "史前与幻想", "Fantasy", "幻想", "dragon", false},
	{"buildings", "Buildings", "建筑", "Buildings", "建筑", "house", false},
	{"roads", "Roads, bridges, walls", "道路、桥梁与围墙", "Roads", "道路桥梁", "bridge-at-night", false},
	{"vehicles", "Vehicles", "交通工具", "Vehicles", "交通", "automobile", false},
	{"plants", "Trees and plants", "树木与植物", "Plants", "植物", "deciduous-tree", false},
	{"nature", "Landscape, rocks, sky", "山石与天空", "Landscape", "山石天空", "mountain", false},
	{"household", "Household things", "家居物品", "Home", "家居", "bed", false},
	{"food", "Food and drink", "食物与饮品", "Food", "食物", "red-apple", false},
	{"clothes", "Clothes", "衣物", "Clothes", "衣物", "t-shirt", false},
	{"music", "Music", "音乐", "Music", "音乐", "guitar", false},
	{"play", "Sport and play", "运动与游戏", "Play", "游戏", "soccer-ball", false},
	{"spiritual", "Spiritual symbols", "宗教与精神象征", "Spiritual", "精神", "candle", false},
	{"feelings", "Feelings", "情绪与情感", "Feelings", "情绪", "slightly-smiling-face", false},
	{"weapons", "Weapons", "武器", "Weapons", "武器", "crossed-swords", true},
}

//go:embed catalogue.tsv
var catalogueTSV string

// library holds the pictures (and a README when make figures has not run).
//
//go:embed library
var library embed.FS

//go:embed LICENSES.md
var licences string

// Licences is the attribution and licence text of the pictures and names,
// shipped with every binary that shows them.
func Licences() string { return licences }

var (
	figures, byID = parse(catalogueTSV)
)

// parse reads catalogue.tsv; a malformed line is a build defect, so it
// panics naming the line (the package test reads the same file).
func parse(tsv string) ([]Figure, map[string]int) {
	var out []Figure
	idx := map[string]int{}
	for n, line := range strings.Split(tsv, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f, err := parseLine(line)
		if err != nil {
			panic(fmt.Sprintf("figures: catalogue.tsv line %d: %v", n+1, err))
		}
		if _, dup := idx[f.ID]; dup {
			panic(fmt.Sprintf("figures: catalogue.tsv line %d: id %q twice", n+1, f.ID))
		}
		idx[f.ID] = len(out)
		out = append(out, f)
	}
	return out, idx
}

func parseLine(line string) (Figure, error) {
	c := strings.Split(line, "\t")
	if len(c) != 9 {
		return Figure{}, fmt.Errorf("%d columns, want 9", len(c))
	}
	size, err := strconv.ParseFloat(c[3], 64)
	if err != nil || size <= 0 {
		return Figure{}, fmt.Errorf("size %q", c[3])
	}
	if c[0] == "" || c[1] == "" || c[2] == "" || c[4] == "" || c[5] == "" {
		return Figure{}, fmt.Errorf("an empty id, category, file or title")
	}
	var words []string
	for _, col := range c[6:8] {
		if col != "" {
			words = append(words, strings.Split(col, ";")...)
		}
	}
	return Figure{ID: c[0], Category: c[1], File: c[2], Size: size, TitleEN: c[4], TitleZH: c[5], Words: words, Base: c[8]}, nil
}

// All returns the shelf, in category order.
func All() []Figure { return slices.Clone(figures) }

// ByID returns one figure; an id of the first shelf (before the library)
// is read as the figure that replaced it.
func ByID(id string) (Figure, bool) {
	if i, ok := byID[id]; ok {
		return figures[i], true
	}
	if to, ok := replaced[id]; ok {
		return figures[byID[to]], true
	}
	return Figure{}, false
}

// Check refuses an unknown figure id.
func Check(id string) error {
	if _, ok := ByID(id); !ok {
		return fmt.Errorf("no figure %q on the shelf", id)
	}
	return nil
}

// Tones returns a person's figure in its five skin tones after the
// default one (the base figure first); a figure without tones alone.
func Tones(id string) []Figure {
	f, ok := ByID(id)
	if !ok {
		return nil
	}
	base := f.ID
	if f.Base != "" {
		base = f.Base
	}
	out := []Figure{figures[byID[base]]}
	for _, g := range figures[byID[base]+1:] {
		if g.Base != base {
			break
		}
		out = append(out, g)
	}
	return out
}

// Picture returns a figure's picture as stored: WebP bytes.
func Picture(id string) ([]byte, error) {
	f, ok := ByID(id)
	if !ok {
		return nil, fmt.Errorf("figures: no figure %q", id)
	}
	b, err := fs.ReadFile(library, "library/"+f.File)
	if err != nil {
		return nil, fmt.Errorf("figures: the picture of %q (%s) is not in this build: run make figures: %w", id, f.File, err)
	}
	return b, nil
}

// Image decodes a figure's picture.
func Image(id string) (image.Image, error) {
	b, err := Picture(id)
	if err != nil {
		return nil, err
	}
	img, err := webp.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("figures: the picture of %q: %w", id, err)
	}
	return img, nil
}

// Thumbnail is a figure's picture scaled to px by px (the report's trays).
func Thumbnail(id string, px int) (*image.RGBA, error) {
	src, err := Image(id)
	if err != nil {
		return nil, err
	}
	dst := image.NewRGBA(image.Rect(0, 0, px, px))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst, nil
}

// Search returns the figures whose titles or search words contain every
// word of the query (Chinese or English, any case), base figures only,
// the best first: a title that is the query, then titles that hold it,
// then search words. At most limit results (limit <= 0: all).
func Search(query string, limit int) []Figure {
	words := strings.Fields(strings.ToLower(query))
	if len(words) == 0 {
		return nil
	}
	type hit struct {
		f    Figure
		rank int
	}
	var hits []hit
	for _, f := range figures {
		if f.Base != "" {
			continue
		}
		en, zh := strings.ToLower(f.TitleEN), f.TitleZH
		rank, all := 0, true
		for _, w := range words {
			switch {
			case en == w || zh == w:
			case strings.Contains(en, w) || strings.Contains(zh, w):
				rank += 1
			case slices.ContainsFunc(f.Words, func(s string) bool { return strings.Contains(strings.ToLower(s), w) }):
				rank += 2
			default:
				all = false
			}
		}
		if all {
			hits = append(hits, hit{f, rank})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.rank - b.rank })
	var out []Figure
	for _, h := range hits {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, h.f)
	}
	return out
}
