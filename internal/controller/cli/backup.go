package cli

import (
	"fmt"
	"io"
	"strings"

	"waystation/internal/platform/backup"
)

func init() {
	register("backup", "copy the data folder while the controller serves it: backup DEST", runBackup)
	register("restore", "restore a backup into an empty data folder: restore SRC --data DIR", runRestore)
}

// progressBar draws "[#####-----] 50%  12.3 of 24.6 MB" on one line.
func progressBar(w io.Writer, what string) backup.Progress {
	last := -1
	return func(done, total int64) {
		pct := 100
		if total > 0 {
			pct = int(done * 100 / total)
		}
		if pct == last {
			return
		}
		last = pct
		n := pct / 5
		fmt.Fprintf(w, "\r%s [%s%s] %3d%%  %.1f of %.1f MB", what, strings.Repeat("#", n), strings.Repeat("-", 20-n), pct,
			float64(done)/1e6, float64(total)/1e6)
		if pct == 100 {
			fmt.Fprintln(w)
		}
	}
}

func runBackup(env *Env, args []string) error {
	fs := flags(env, "backup")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the manifest as JSON")
	pos, err := parse(fs, args, 1, 1, "the DEST folder (new or empty)")
	if err != nil {
		return err
	}
	m, err := backup.Take(env.Context, *data, pos[0], progressBar(env.Stderr, "backup"))
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, m)
	}
	fmt.Fprintf(env.Stdout, "Backed up %s to %s: %d files, %d events, audit row %d; checksums in %s/%s.\n",
		*data, pos[0], len(m.Files), m.Events, m.AuditHead.Seq, pos[0], backup.ManifestName)
	return nil
}

func runRestore(env *Env, args []string) error {
	fs := flags(env, "restore")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the manifest as JSON")
	pos, err := parse(fs, args, 1, 1, "the backup folder SRC")
	if err != nil {
		return err
	}
	if !fs.Changed("data") && env.Getenv("WAYSTATION_DATA") == "" {
		return usagef("give the folder to restore into with --data DIR")
	}
	m, err := backup.Restore(env.Context, pos[0], *data, progressBar(env.Stderr, "restore"))
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, m)
	}
	fmt.Fprintf(env.Stdout, "Restored %s (taken %s, %d events) into %s; every file matched its checksum. Start the controller with --data %s.\n",
		pos[0], m.Created.Local().Format("2006-01-02 15:04"), m.Events, *data, *data)
	return nil
}
