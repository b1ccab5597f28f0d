// Package columns lines up tab-separated text in columns as a terminal
// shows it: a Chinese character takes two cells, so a device named 沙盘终端
// is as wide as eight Latin letters. text/tabwriter counts every character
// as one cell, and the CLI's tables drifted out of line with Chinese names.
package columns

import (
	"bytes"
	"io"
	"strings"

	"golang.org/x/text/width"
)

// Padding is the space between two columns.
const Padding = 2

// Writer collects lines of tab-separated cells and writes them lined up at
// Flush. Text after a line's last tab is not padded.
type Writer struct {
	out io.Writer
	buf bytes.Buffer
}

// New returns a Writer onto out.
func New(out io.Writer) *Writer { return &Writer{out: out} }

// Write takes text; it is written at Flush.
func (w *Writer) Write(p []byte) (int, error) { return w.buf.Write(p) }

// Flush writes what was written since the last Flush, lined up.
func (w *Writer) Flush() error {
	text := w.buf.String()
	w.buf.Reset()
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	rows := make([][]string, len(lines))
	var widths []int
	for i, l := range lines {
		rows[i] = strings.Split(l, "\t")
		for j, cell := range rows[i][:len(rows[i])-1] {
			if j == len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], Width(cell))
		}
	}
	var out strings.Builder
	for _, cells := range rows {
		for j, cell := range cells {
			out.WriteString(cell)
			if j < len(cells)-1 {
				out.WriteString(strings.Repeat(" ", widths[j]-Width(cell)+Padding))
			}
		}
	}
	_, err := io.WriteString(w.out, out.String())
	return err
}

// Width is how many terminal cells s takes: two for wide and full-width
// characters (Chinese, Japanese, Korean), none for combining marks, one for
// the rest.
func Width(s string) int {
	n := 0
	for _, r := range s {
		switch p := width.LookupRune(r); {
		case p.Kind() == width.EastAsianWide || p.Kind() == width.EastAsianFullwidth:
			n += 2
		case r >= 0x300 && r <= 0x36F, r == 0x200B, r == 0xFE0F:
			// combining marks, zero-width space, variation selector
		default:
			n++
		}
	}
	return n
}
