package serve

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestDebugListen(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	refused := []struct{ addr, want string }{
		{"0.0.0.0:0", "loopback address only"},
		{"192.0.2.1:6060", "loopback address only"},
		{":6060", "loopback address only"},
		{"example.org:6060", "loopback address only"},
		{"6060", "missing port"},
	}
	for _, tt := range refused {
		if _, stop, err := serveDebug(tt.addr, log); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--debug-listen") {
			if stop != nil {
				stop()
			}
			t.Errorf("serveDebug(%q) = %v, want an error naming --debug-listen and %q", tt.addr, err, tt.want)
		}
	}
	addr, stop, err := serveDebug("127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("GET /debug/pprof/goroutine: %s %.80q", resp.Status, body)
	}
}
