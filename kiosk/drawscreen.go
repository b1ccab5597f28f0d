package kiosk

import (
	"encoding/json"

	"waystation/kiosk/drawing"
)

// DrawingScreen is the drawing screen: a blank page, House-Tree-Person or
// a mandala to colour (drawing.open).
const DrawingScreen Screen = "drawing"

// openDrawing starts a drawing on a template. Callers hold mu.
func (m *Model) openDrawing(args map[string]any) error {
	tmpl, _ := args["template"].(string)
	d, err := drawing.New(tmpl)
	if err != nil {
		return err
	}
	m.draw, m.drawOpened = d, m.now()
	m.drawRev++
	m.st.Screen, m.st.DrawTemplate, m.st.DrawRev, m.st.DrawMarks = DrawingScreen, tmpl, m.drawRev, nil
	m.record("drawing.opened", map[string]any{"template": tmpl})
	return nil
}

// DrawMS is the time on the drawing's clock: milliseconds since it
// opened, what its events carry.
func (m *Model) DrawMS() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.drawMS()
}

func (m *Model) drawMS() int {
	return max(0, int(m.now().Sub(m.drawOpened).Milliseconds()))
}

// Draw applies one thing the client did on the drawing screen (a stroke,
// a fill, undo, redo, clear, an HTP element marked done) and records it as
// the event drawing.<kind>; a refused one changes nothing and records
// nothing.
func (m *Model) Draw(op drawing.Op) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st.Screen != DrawingScreen || m.draw == nil {
		return ErrWrongScreen
	}
	m.touch()
	if err := m.draw.Apply(op); err != nil {
		return err
	}
	m.drawRev++
	m.st.DrawRev = m.drawRev
	if op.Kind == drawing.Element {
		m.st.DrawMarks = append(m.st.DrawMarks, op.Element)
	}
	m.record("drawing."+op.Kind, json.RawMessage(drawing.Encode(op)))
	return nil
}

// DrawDone finishes the drawing: its picture goes with drawing.done and
// the kiosk waits for what comes next.
func (m *Model) DrawDone() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st.Screen != DrawingScreen || m.draw == nil {
		return ErrWrongScreen
	}
	m.touch()
	data, err := m.draw.DoneEvent(m.drawMS())
	if err != nil {
		return err
	}
	m.record("drawing.done", data)
	m.st.Screen = Waiting
	return nil
}

// DrawItems returns what shows on the drawing now, from the last clear
// on, with the drawing's revision.
func (m *Model) DrawItems() ([]drawing.Item, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.draw == nil {
		return nil, m.drawRev
	}
	return m.draw.Shown(), m.drawRev
}

// DrawRev is the drawing's revision: it changes with every change.
func (m *Model) DrawRev() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.drawRev
}
