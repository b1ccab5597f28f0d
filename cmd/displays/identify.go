package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-gl/gl/v2.1/gl"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// segments are the seven segments each digit lights: a (top), b (upper
// right), c (lower right), d (bottom), e (lower left), f (upper left),
// g (middle).
var segments = map[rune]string{
	'0': "abcdef", '1': "bc", '2': "abged", '3': "abgcd", '4': "fgbc",
	'5': "afgcd", '6': "afgedc", '7': "abc", '8': "abcdefg", '9': "abcdfg",
}

// segmentRect is a segment's rectangle in a digit box from (0,0) bottom
// left to (1,2) top right: x0, y0, x1, y1.
var segmentRect = map[rune][4]float32{
	'a': {0.1, 1.8, 0.9, 2.0}, 'g': {0.1, 0.9, 0.9, 1.1}, 'd': {0.1, 0, 0.9, 0.2},
	'f': {0, 1.0, 0.2, 1.9}, 'b': {0.8, 1.0, 1.0, 1.9},
	'e': {0, 0.1, 0.2, 1.0}, 'c': {0.8, 0.1, 1.0, 1.0},
}

// identifyAll opens a full-screen window on every monitor showing its
// number (its index + 1, as a technician counts) for d, or until Escape or
// a click on any of them.
func identifyAll(monitors []Monitor, d time.Duration, out io.Writer) error {
	glfwMonitors := glfw.GetMonitors()
	glfw.WindowHint(glfw.ContextVersionMajor, 2)
	glfw.WindowHint(glfw.ContextVersionMinor, 1)
	glfw.WindowHint(glfw.AutoIconify, glfw.False)
	var windows []*glfw.Window
	defer func() {
		for _, w := range windows {
			w.Destroy()
		}
	}()
	done := false
	for i, m := range monitors {
		if i >= len(glfwMonitors) {
			break
		}
		w, err := glfw.CreateWindow(max(m.Width, 1), max(m.Height, 1), "Waystation monitor "+strconv.Itoa(i+1), glfwMonitors[i], nil)
		if err != nil {
			return fmt.Errorf("monitor %d: %w", i, err)
		}
		w.SetKeyCallback(func(_ *glfw.Window, key glfw.Key, _ int, action glfw.Action, _ glfw.ModifierKey) {
			if key == glfw.KeyEscape && action == glfw.Press {
				done = true
			}
		})
		w.SetMouseButtonCallback(func(*glfw.Window, glfw.MouseButton, glfw.Action, glfw.ModifierKey) { done = true })
		windows = append(windows, w)
		if i == 0 {
			w.MakeContextCurrent()
			if err := gl.Init(); err != nil {
				return fmt.Errorf("OpenGL: %w", err)
			}
		}
	}
	fmt.Fprintf(out, "identifying %d monitor(s) for %v (Escape or a click ends it)\n", len(windows), d)
	deadline := time.Now().Add(d)
	for !done && time.Now().Before(deadline) {
		for i, w := range windows {
			if w.ShouldClose() {
				done = true
			}
			w.MakeContextCurrent()
			fw, fh := w.GetFramebufferSize()
			draw(i+1, fw, fh)
			w.SwapBuffers()
		}
		glfw.WaitEventsTimeout(0.05)
	}
	return nil
}

// draw paints a monitor's number, large and centred, white on dark blue.
func draw(n, width, height int) {
	gl.Viewport(0, 0, int32(width), int32(height))
	gl.ClearColor(0.05, 0.12, 0.3, 1)
	gl.Clear(gl.COLOR_BUFFER_BIT)
	gl.MatrixMode(gl.PROJECTION)
	gl.LoadIdentity()
	// Units: the screen is 2 digit-heights tall, and as wide as its aspect.
	aspect := float64(width) / float64(max(height, 1))
	gl.Ortho(-aspect*2, aspect*2, -2, 2, -1, 1)
	gl.MatrixMode(gl.MODELVIEW)
	gl.LoadIdentity()
	gl.Color3f(1, 1, 1)
	digits := strconv.Itoa(n)
	const box, gap = 1.0, 0.4
	total := float32(len(digits))*box + float32(len(digits)-1)*gap
	x0 := -total / 2
	gl.Begin(gl.QUADS)
	for k, r := range digits {
		ox := x0 + float32(k)*(box+gap)
		for _, s := range segments[r] {
			q := segmentRect[s]
			gl.Vertex2f(ox+q[0], q[1]-1)
			gl.Vertex2f(ox+q[2], q[1]-1)
			gl.Vertex2f(ox+q[2], q[3]-1)
			gl.Vertex2f(ox+q[0], q[3]-1)
		}
	}
	gl.End()
}
