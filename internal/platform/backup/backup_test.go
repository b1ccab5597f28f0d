package backup_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waystation/devices/devsim"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/controller/serve"
	"waystation/internal/platform/audit"
	"waystation/internal/platform/backup"
	"waystation/internal/platform/sqlite"
)

type row struct{ ts, source, kind, data string }

// events reads every event of a store by stream and seq.
func events(t *testing.T, dir string) map[string]map[int64]row {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.R.Query(`SELECT stream, seq, ts, source, kind, COALESCE(data, '') FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[int64]row{}
	for rows.Next() {
		var stream string
		var seq int64
		var r row
		rows.Scan(&stream, &seq, &r.ts, &r.source, &r.kind, &r.data)
		if out[stream] == nil {
			out[stream] = map[int64]row{}
		}
		out[stream][seq] = r
	}
	return out
}

// A backup taken while a device writes events restores to an event log
// identical, seq by seq, to the original up to the moment of the copy;
// the restore checks the manifest and refuses a folder with a database.
func TestBackupUnderWriteLoad(t *testing.T) {
	data := t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	ready, served := make(chan string, 1), make(chan error, 1)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		served <- serve.Run(ctx, serve.Config{Addr: "127.0.0.1:0", DataDir: data, ProfilesDir: "../../../firmware-profiles",
			Logger: quiet, Out: &bytes.Buffer{}, Ready: func(a string) { ready <- a }})
	}()
	addr := <-ready
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(db)
	reg.AddRoom(context.Background(), "Room")
	set, _ := profile.LoadDir("../../../firmware-profiles")
	d, token, err := reg.Add(context.Background(), set, registry.NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk", Room: "Room"})
	if err != nil {
		t.Fatal(err)
	}
	audit.New(db).Record(context.Background(), audit.Entry{Actor: "test", Action: "before backup"})
	kp, _ := set.Get("kiosk-ws-1")
	dev := &devsim.Device{URL: "ws://" + addr + "/v1/devices/ws", Token: token, Profile: kp, Logger: quiet}
	simCtx, stopSim := context.WithCancel(context.Background())
	simDone := make(chan struct{})
	go func() { dev.Run(simCtx); close(simDone) }()

	count := func() (n int) {
		db.R.QueryRow(`SELECT count(*) FROM events WHERE stream = ?`, d.ID).Scan(&n)
		return
	}
	const total = 1200
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for i := range total {
			dev.Event("", "load.tick", map[string]int{"i": i})
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	for i := 0; i < 1000 && count() < 200; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	dest := filepath.Join(t.TempDir(), "backup")
	var lastPct int64
	m, err := backup.Take(context.Background(), data, dest, func(done, total int64) { lastPct = done * 100 / max(total, 1) })
	if err != nil {
		t.Fatal(err)
	}
	atBackup := count()
	<-writing
	for i := 0; i < 3000 && count() < total; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	stopSim()
	<-simDone
	db.Close()
	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if lastPct != 100 || m.Events == 0 || m.AuditHead.Seq == 0 {
		t.Errorf("progress ended at %d%%; manifest %+v", lastPct, m)
	}
	for path, want := range map[string]os.FileMode{dest: 0o700, filepath.Join(dest, sqlite.FileName): 0o600, filepath.Join(dest, backup.ManifestName): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore(context.Background(), dest, data, nil); err == nil || !strings.Contains(err.Error(), "already holds a database") {
		t.Errorf("restore over the live folder: %v", err)
	}
	if _, err := backup.Restore(context.Background(), dest, restored, nil); err != nil {
		t.Fatal(err)
	}
	orig, back := events(t, data), events(t, restored)
	got := len(back[d.ID])
	if got == 0 || got > atBackup || int64(got) > m.Events {
		t.Errorf("the backup holds %d of the device's events; %d were stored when it finished", got, atBackup)
	}
	if len(orig[d.ID]) != total {
		t.Errorf("the original holds %d events, want %d", len(orig[d.ID]), total)
	}
	for stream, seqs := range back {
		for seq := int64(1); seq <= int64(len(seqs)); seq++ {
			b, ok := seqs[seq]
			if !ok {
				t.Fatalf("stream %s: the backup has %d events but no seq %d", stream, len(seqs), seq)
			}
			if o := orig[stream][seq]; o != b {
				t.Fatalf("stream %s seq %d differs: backup %+v, original %+v", stream, seq, b, o)
			}
		}
	}
	rdb, err := sqlite.Open(context.Background(), restored)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := audit.Verify(context.Background(), rdb.R); err != nil || r.Broken != nil || r.Rows != m.AuditHead.Seq {
		t.Errorf("the restored audit chain: %+v %v (manifest head %d)", r, err, m.AuditHead.Seq)
	}
	rdb.Close()
	t.Logf("backup during writes: %d of %d events in the copy; the rest arrived after it", got, total)
}

func TestRestoreChecksTheManifest(t *testing.T) {
	data := t.TempDir()
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	registry.New(db).AddRoom(context.Background(), "Room")
	db.Close()
	os.MkdirAll(filepath.Join(data, "music"), 0o755)
	os.WriteFile(filepath.Join(data, "music", "a.wav"), []byte("not really audio"), 0o644)
	for _, tc := range []struct {
		name   string
		damage func(dest string)
		want   string
	}{
		{"changed", func(dest string) { os.WriteFile(filepath.Join(dest, "music", "a.wav"), []byte("changed!"), 0o600) }, "music/a.wav has changed"},
		{"missing", func(dest string) { os.Remove(filepath.Join(dest, sqlite.FileName)) }, sqlite.FileName + " is missing"},
		{"extra", func(dest string) { os.WriteFile(filepath.Join(dest, "extra.txt"), []byte("x"), 0o600) }, "extra.txt is not in the manifest"},
		{"no manifest", func(dest string) { os.Remove(filepath.Join(dest, backup.ManifestName)) }, "is not a Waystation backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "b")
			m, err := backup.Take(context.Background(), data, dest, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Files) != 2 {
				t.Errorf("files %+v", m.Files)
			}
			tc.damage(dest)
			into := filepath.Join(t.TempDir(), "r")
			if _, err := backup.Restore(context.Background(), dest, into, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(into, sqlite.FileName)); err == nil {
				t.Error("a damaged backup was restored")
			}
		})
	}
	if _, err := backup.Take(context.Background(), data, data, nil); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("backup into a folder with files: %v", err)
	}
}
