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
		cmd := exec.Command(filepath.Join(bin, "waystation-kiosk-screen"), "--bench-frames", frames, "--window", "1920x1080")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			b.Fatalf("kiosk benchmark: %v\n%s", err, errOut.String())
		}
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
