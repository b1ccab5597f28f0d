// Package fonts finds the font the kiosk draws its text with: one that has
// Chinese and Latin letters both. It needs no display, so the kiosk's
// launcher can refuse to start with a clear message before a window opens.
package fonts

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	gofont "github.com/go-text/typesetting/font"
)

// Files are where the kiosk looks for a font with Chinese and Latin
// letters, in order: Debian's fonts-noto-cjk, then fonts-wqy-microhei.
var Files = []string{
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
}

// probe is text every screen needs: Chinese, Latin letters and digits.
const probe = "呼叫咨询师深呼吸放松沙盘谢谢Call counsellor Breathe 0123456789"

// ErrNoFont says no usable font was found; its message says what to install.
var ErrNoFont = errors.New("no font with both Chinese and Latin letters")

// Font is a face in a font file (or collection) that draws the kiosk's text.
type Font struct {
	Path   string
	Index  int // the face's index in a collection
	Family string
	Data   []byte
}

// String names the font for logs.
func (f Font) String() string { return fmt.Sprintf("%s (%s)", f.Path, f.Family) }

// Find returns a font that draws every character the kiosk shows, from
// path or, when path is empty, from the first of Files that has one. A
// font that lacks Chinese or Latin letters (Droid Sans Fallback draws Latin
// as empty boxes) is refused, naming what it lacks.
func Find(path string) (Font, error) {
	paths := Files
	if path != "" {
		paths = []string{path}
	}
	var tried []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			tried = append(tried, fmt.Sprintf("%s (%v)", p, err))
			continue
		}
		f, err := pick(b)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", p, err))
			continue
		}
		f.Path, f.Data = p, b
		return f, nil
	}
	return Font{}, fmt.Errorf("%w: tried %s; install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk) or pass --font FILE",
		ErrNoFont, strings.Join(tried, "; "))
}

// pick returns the face of a font file or collection that covers the
// probe, preferring simplified Chinese.
func pick(b []byte) (Font, error) {
	faces, err := gofont.ParseTTC(bytes.NewReader(b))
	if err != nil {
		return Font{}, fmt.Errorf("not a font: %v", err)
	}
	best, missing := Font{Index: -1}, ""
	for i, f := range faces {
		var lacks []rune
		for _, r := range probe {
			if _, ok := f.NominalGlyph(r); !ok && r != ' ' {
				lacks = append(lacks, r)
			}
		}
		if len(lacks) > 0 {
			missing = string(lacks)
			continue
		}
		family := f.Describe().Family
		if best.Index < 0 || strings.HasSuffix(family, " SC") && !strings.HasSuffix(best.Family, " SC") {
			best = Font{Index: i, Family: family}
		}
	}
	if best.Index < 0 {
		return Font{}, fmt.Errorf("lacks the characters %q", missing)
	}
	return best, nil
}
