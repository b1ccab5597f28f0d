package serve

import (
	"net/http"
	"os"
	"syscall"

	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
)

// Health is what GET /v1/health reports to admins and technicians.
type Health struct {
	Version       string `json:"version"`
	DatabaseBytes int64  `json:"database_bytes"` // the database with its WAL
	FreeDiskBytes int64  `json:"free_disk_bytes"`
	DataDir       string `json:"data_dir"`
	EventLog      struct {
		Queued   int     `json:"queued"`
		LagMS    float64 `json:"lag_ms"` // submission to commit, last batch
		Batches  int64   `json:"batches"`
		Events   int64   `json:"events"`
		Readings int64   `json:"readings"`
		Failures int64   `json:"failures"`
	} `json:"event_log"`
	DevicesRegistered int `json:"devices_registered"`
	DevicesConnected  int `json:"devices_connected"` // online, whatever the transport
	Consoles          int `json:"consoles"`
}

// healthHandler reports the controller's own health: store size, free
// disk, the event log's queue and lag, devices and consoles connected.
func healthHandler(db *sqlite.DB, dataDir string, elog *eventlog.Log, consoles func() int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var h Health
		h.Version, h.DataDir = waystation.Version, dataDir
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(db.Path + suffix); err == nil {
				h.DatabaseBytes += fi.Size()
			}
		}
		var fs syscall.Statfs_t
		if err := syscall.Statfs(dataDir, &fs); err == nil {
			h.FreeDiskBytes = int64(fs.Bavail) * int64(fs.Bsize)
		}
		st := elog.Stats()
		h.EventLog.Queued, h.EventLog.LagMS = st.Queued, float64(st.LastLag.Microseconds())/1000
		h.EventLog.Batches, h.EventLog.Events, h.EventLog.Readings, h.EventLog.Failures = st.Batches, st.Events, st.Readings, st.Failures
		err := db.R.QueryRowContext(r.Context(), `SELECT
			(SELECT count(*) FROM devices WHERE removed IS NULL),
			(SELECT count(*) FROM device_status s JOIN devices d ON d.id = s.device_id WHERE d.removed IS NULL AND s.status = 'online')`).
			Scan(&h.DevicesRegistered, &h.DevicesConnected)
		if err != nil {
			httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "the store does not answer: %v", err)
			return
		}
		h.Consoles = consoles()
		httpjson.Write(w, http.StatusOK, h)
	}
}
