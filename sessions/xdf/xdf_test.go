package xdf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// xdfinfo builds testdata/xdfinfo.cpp against libxdf. make test installs
// libxdf-dev and g++ and sets WAYSTATION_XDF=1, so there a missing loader
// fails the test; elsewhere it is skipped, saying why.
func xdfinfo(t *testing.T) string {
	t.Helper()
	_, err1 := os.Stat("/usr/include/xdf.h")
	_, err2 := exec.LookPath("g++")
	if err1 != nil || err2 != nil {
		if os.Getenv("WAYSTATION_XDF") != "" {
			t.Fatalf("libxdf-dev or g++ is missing (scripts/apt-packages.txt lists both): %v %v", err1, err2)
		}
		t.Skip("the XDF reference loader needs libxdf-dev and g++ (make test installs them)")
	}
	bin := filepath.Join(t.TempDir(), "xdfinfo")
	if out, err := exec.Command("g++", "-std=c++17", "-O1", "-o", bin, "testdata/xdfinfo.cpp", "-lxdf").CombinedOutput(); err != nil {
		t.Fatalf("building xdfinfo: %v\n%s", err, out)
	}
	return bin
}

// load writes streams and reads them back with libxdf: one line a stream.
func load(t *testing.T, bin string, streams []Stream) []string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, streams); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "s.xdf")
	os.WriteFile(p, b.Bytes(), 0o644)
	// libxdf prints its timing and an EOF note on standard output; the
	// streams' lines are the ones with tabs.
	out, err := exec.Command(bin, p).CombinedOutput()
	if err != nil {
		t.Fatalf("libxdf: %v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "\t") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestLibxdfLoadsWhatWeWrite(t *testing.T) {
	bin := xdfinfo(t)
	rr := Stream{Name: "RR K1", Type: "RR", Format: "double64", Unit: "ms", Label: "RR"}
	for i := range 2500 { // more than one Samples chunk
		rr.Times = append(rr.Times, 1.7e9+float64(i)*0.8)
		rr.Values = append(rr.Values, 800+float64(i%7))
	}
	hr := Stream{Name: "Heart rate", Type: "HeartRate", Rate: 1, Format: "float32", Unit: "bpm", Label: "HR", Times: []float64{1.7e9, 1.7e9 + 1, 1.7e9 + 2}, Values: []float64{75, 76, 74}}
	markers := Stream{Name: "Markers <&>", Type: "Markers", Format: "string", Times: []float64{1.7e9, 1.7e9 + 5}, Strings: []string{"scene.start sea", "checkin.rating {\"value\":6} 心情"}}
	got := load(t, bin, []Stream{rr, hr, markers})
	want := []string{"RR K1\tRR\t2500\t2500\t0", "Heart rate\tHeartRate\t3\t3\t0", "Markers <&>\tMarkers\t2\t0\t2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("libxdf read:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWriteRefuses(t *testing.T) {
	for _, s := range []Stream{
		{Name: "a", Format: "double64", Times: []float64{1}},
		{Name: "b", Format: "int8", Times: []float64{1}, Values: []float64{1}},
		{Name: "c", Format: "float32"}, // empty: libxdf would crash on it
	} {
		if err := Write(&bytes.Buffer{}, []Stream{s}); err == nil {
			t.Errorf("Write(%+v) accepted", s)
		}
	}
}
