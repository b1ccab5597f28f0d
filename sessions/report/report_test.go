package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waystation/devices/registry"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
)

// A session's report as a PDF: its text (Chinese included) comes back out
// through poppler's pdftotext, and its first page is rendered to a PNG
// under test-output/reports with pdftoppm.
func TestSessionReportPDF(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdftoppm", "pdfimages"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: make test installs poppler-utils (scripts/apt-packages.txt)", tool)
		}
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	u, _ := accounts.Add(ctx, "ana", auth.Counsellor, "a password here")
	room, _ := registry.New(db).AddRoom(ctx, "VR room")
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	ft := func(d time.Duration) string { return sqlite.FormatTime(start.Add(d)) }
	exec1 := func(q string, args ...any) {
		if _, err := db.W.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec1(`INSERT INTO clients (code, risk, created, created_by) VALUES ('C-2001', 'high', ?, ?)`, ft(-time.Hour), u.ID)
	exec1(`INSERT INTO sessions (id, room_id, client_code, counsellor_id, plan, state, created, started, ended) VALUES ('s-r1', ?, 'C-2001', ?, ?, 'ended', ?, ?, ?)`,
		room.ID, u.ID, `{"lang":"en","steps":[{"kind":"checkin"},{"kind":"vr","program":"cue-assessment"},{"kind":"checkout"}]}`, ft(-time.Minute), ft(0), ft(20*time.Minute))
	events := []struct{ kind, source, data string }{
		{"session.started", "user:" + u.ID, `{"to":"running"}`},
		{"checkin.rating", "device:d-k", `{"value":7,"mood":"anxious"}`},
		{"note.added", "user:" + u.ID, `{"text":"来访者说今天睡得不好 (slept badly)","by":"ana"}`},
		{"note.added", "user:" + u.ID, `{"text":"smiled 😌 at the end; 👍🏽 ok","by":"ana"}`},
		{"checkout.rating", "device:d-k", `{"value":4,"mood":"calmer"}`},
	}
	events = append(events, []struct{ kind, source, data string }{
		{"sandtray.place", "device:d-k", `{"figure":"lion","x":0.3,"y":0.4}`},
		{"plan.step", "user:" + u.ID, `{"action":"next","from":0,"to":1}`},
		{"sandtray.dig", "device:d-k", `{"x":0.7,"y":0.7,"radius":0.15,"amount":0.9}`},
		// a first-shelf id (the tree it became), a person in a skin tone
		// turned and flipped, and a figure of the library
		{"sandtray.place", "device:d-k", `{"figure":"pine-tree","x":0.1,"y":0.2}`},
		{"sandtray.place", "device:d-k", `{"figure":"police-officer-dark","x":0.55,"y":0.35}`},
		{"sandtray.rotate", "device:d-k", `{"id":3,"angle":20}`},
		{"sandtray.flip", "device:d-k", `{"id":3}`},
		{"sandtray.place", "device:d-k", `{"figure":"dragon","x":0.85,"y":0.6}`},
	}...)
	for i, e := range events {
		exec1(`INSERT INTO events (stream, seq, ts, source, kind, data) VALUES ('s-r1', ?, ?, ?, ?, ?)`, i+1, ft(time.Duration(i)*time.Minute), e.source, e.kind, e.data)
	}
	for i := range 120 {
		exec1(`INSERT INTO telemetry (device_id, stream, ts, name, value) VALUES ('d-h', 's-r1', ?, 'heart_rate', ?)`, ft(time.Duration(i)*5*time.Second), 70+float64(i%20))
	}
	exec1(`INSERT INTO alerts (id, session_id, device_id, kind, risk, level, raised, acked, acked_by) VALUES ('a-1', 's-r1', 'd-k', 'help.requested', 'high', 2, ?, ?, ?)`, ft(3*time.Minute), ft(4*time.Minute), u.ID)
	exec1(`INSERT INTO assessments (session_id, device_id, is_primary, client_code, computed, data) VALUES ('s-r1', 'd-h', 1, 'C-2001', ?, ?)`, ft(20*time.Minute),
		`{"levels":[{"level":0,"phase":"baseline","craving":2,"mean_hr":74.5,"mean_hr_change":0},{"level":1,"phase":"cue","craving":6,"mean_hr":85.7,"mean_hr_change":11.2}]}`)

	d, err := Load(ctx, db, "s-r1", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.HeartRate) != 60 || len(d.Alerts) != 1 || d.Assessment == nil || len(d.Session.Notes) != 2 || len(d.Session.Ratings) != 2 {
		t.Fatalf("report data: %d points, %d alerts, assessment %v, %d notes, %d ratings", len(d.HeartRate), len(d.Alerts), d.Assessment, len(d.Session.Notes), len(d.Session.Ratings))
	}
	var buf bytes.Buffer
	if err := PDF(&buf, d); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "report.pdf")
	os.WriteFile(pdf, buf.Bytes(), 0o600)
	out, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	for _, want := range []string{"Session report", "C-2001", "来访者说今天睡得不好", "slept badly", "distress 7/10", "distress 4/10",
		"Client asked for help", "acknowledged by ana after 1m0s", "Craving assessment", "85.7", "11.2", "VR program · Cue-reactivity assessment", "Mean heart rate per 10 s",
		"smiled � at the end; �� ok", "Characters the report's fonts cannot show (emoji, say) are printed as �",
		"Sandtray at the end of plan step 1", "Sandtray: the final tray, after 7 actions", "Lion", "Evergreen tree", "Police officer (dark", "Dragon"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	// In the session's language: a plan in Chinese gives a report in
	// Chinese, with the catalogue's titles, not ids.
	d.Session.Plan = []byte(`{"lang":"zh","steps":[{"kind":"checkin"},{"kind":"vr","program":"cue-assessment"},{"kind":"relaxation","scene":"sea","bpm":6}]}`)
	var zh bytes.Buffer
	if err := PDF(&zh, d); err != nil {
		t.Fatal(err)
	}
	zhPDF := filepath.Join(dir, "report-zh.pdf")
	os.WriteFile(zhPDF, zh.Bytes(), 0o600)
	out, err = exec.Command("pdftotext", "-layout", zhPDF, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, want := range []string{"会谈报告", "VR 程序 · 线索反应评估", "放松 · 大海 · 6/min", "来访者请求帮助", "由 ana 在 1m0s 后确认", "渴求评估",
		"困扰程度 7/10 · 心情 紧张", "狮子", "报告字体无法显示的字符"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the Chinese PDF's text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "cue-assessment ") || strings.Contains(string(out), "Session report") {
		t.Errorf("the Chinese PDF shows ids or English headings:\n%s", out)
	}
	// The trays draw the figures' pictures: one image each in the PDF
	// (registered once, drawn in both trays).
	list, err := exec.Command("pdfimages", "-list", pdf).Output()
	if err != nil {
		t.Fatalf("pdfimages: %v", err)
	}
	if n := strings.Count(string(list), " 96    96 "); n < 4 {
		t.Errorf("%d figure pictures (96x96) in the PDF, want the 4 figures':\n%s", n, list)
	}
	shots, _ := filepath.Abs("../../test-output/reports")
	os.MkdirAll(shots, 0o755)
	os.WriteFile(filepath.Join(shots, "session-report.pdf"), buf.Bytes(), 0o600)
	if out, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, filepath.Join(shots, "session-report")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	if out, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", zhPDF, filepath.Join(shots, "session-report-zh")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	// The page with the final tray, to look at.
	if out, err := exec.Command("pdftoppm", "-png", "-r", "110", "-f", "2", "-l", "2", "-singlefile", pdf, filepath.Join(shots, "session-report-tray")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	if fi, err := os.Stat(filepath.Join(shots, "session-report.png")); err != nil || fi.Size() < 5000 {
		t.Errorf("first page PNG: %v %v", fi, err)
	}
	if _, err := Load(ctx, db, "s-nope", ""); err == nil || !strings.Contains(err.Error(), `no session "s-nope"`) {
		t.Errorf("unknown session: %v", err)
	}
}
