package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"waystation/internal/testkit/xvfb"
)

// BenchmarkSandtrayFrames runs the kiosk's own frame-time benchmark under
// Xvfb at 1920x1080: the sandtray with 200 placed figures, after as many
// empty frames (what the display itself costs). One run is 600 frames of
// each; b.N is ignored beyond that. The goal is a steady 60 FPS; under
// Xvfb's software GL on a machine without a GPU even an empty frame does
// not reach it, so the ratio to the empty frame is reported too.
func BenchmarkSandtrayFrames(b *testing.B) {
	bin := binaries(b)
	display := xvfb.Start(b, "1920x1080x24")
	frames := "600"
	if v := os.Getenv("KIOSK_BENCH_FRAMES"); v != "" {
		frames = v
	}
	for b.Loop() {
		out := kioskScreen(b, bin, display, "--bench-frames", frames)
		type stats struct {
			P50 float64 `json:"p50_ms"`
			P90 float64 `json:"p90_ms"`
			P99 float64 `json:"p99_ms"`
			FPS float64 `json:"fps_median"`
		}
		var r struct {
			Empty stats   `json:"empty_frame"`
			Tray  stats   `json:"sandtray"`
			Ratio float64 `json:"ratio_p50"`
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			b.Fatalf("kiosk benchmark output %q: %v", out.String(), err)
		}
		b.ReportMetric(r.Tray.P50, "frame_p50_ms")
		b.ReportMetric(r.Tray.P90, "frame_p90_ms")
		b.ReportMetric(r.Tray.P99, "frame_p99_ms")
		b.ReportMetric(r.Tray.FPS, "fps_median")
		b.ReportMetric(r.Empty.P50, "empty_frame_p50_ms")
		b.ReportMetric(r.Empty.FPS, "empty_fps_median")
		b.ReportMetric(r.Ratio, "ratio_to_empty")
		b.Logf("sandtray, 200 figures, 1920x1080 under Xvfb: %s", bytes.TrimSpace(out.Bytes()))
	}
}

// The whole shelf paged through under Xvfb (waystation-kiosk-screen
// --bench-browse): every tab, skin tone and page, each shown until all its
// pictures are drawn. Reports how long a page takes to fill, the frame
// interval while browsing (a page turn must not hold frames up) and the
// kiosk's memory at the end and at its peak.
func BenchmarkShelfBrowse(b *testing.B) {
	bin := binaries(b)
	display := xvfb.Start(b, "1920x1080x24")
	for b.Loop() {
		out := kioskScreen(b, bin, display, "--bench-browse")
		type stats struct {
			P50 float64 `json:"p50_ms"`
			P99 float64 `json:"p99_ms"`
			Max float64 `json:"max_ms"`
		}
		var r struct {
			Pages   int     `json:"pages"`
			Figures int     `json:"figures_shown"`
			Fill    stats   `json:"page_fill"`
			Frame   stats   `json:"frame"`
			RSS     float64 `json:"rss_mib"`
			Peak    float64 `json:"peak_rss_mib"`
			Heap    float64 `json:"go_heap_mib"`
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			b.Fatalf("kiosk shelf benchmark output %q: %v", out.String(), err)
		}
		b.ReportMetric(float64(r.Figures), "figures_shown")
		b.ReportMetric(r.Fill.P50, "page_fill_p50_ms")
		b.ReportMetric(r.Fill.P99, "page_fill_p99_ms")
		b.ReportMetric(r.Frame.P99, "frame_p99_ms")
		b.ReportMetric(r.Peak, "peak_rss_mib")
		b.ReportMetric(r.Heap, "go_heap_mib")
		b.Logf("the whole shelf, 1920x1080 under Xvfb: %s", bytes.TrimSpace(out.Bytes()))
	}
}

// kioskScreen runs waystation-kiosk-screen in a 1920x1080 window on the
// display with args and returns what it printed.
func kioskScreen(tb testing.TB, bin, display string, args ...string) *bytes.Buffer {
	tb.Helper()
	cmd := exec.Command(filepath.Join(bin, "waystation-kiosk-screen"), append(args, "--window", "1920x1080")...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		tb.Fatalf("waystation-kiosk-screen %v: %v\n%s", args, err, errOut.String())
	}
	return &out
}
