package cli

import (
	"fmt"
	"time"

	"waystation/internal/platform/audit"
	"waystation/internal/platform/sqlite"
	"waystation/sessions/retention"
)

func init() {
	register("retention run", "delete session content older than the retention period (--dry-run lists it)", retentionRun)
	register("retention set", "set how many days session content is kept: retention set --days N (0: forever)", retentionSet)
	register("retention show", "show the retention period", retentionShow)
	register("client hold", "put a client's records under legal hold: client hold CODE --reason R", clientHold(true))
	register("client release", "release a client's legal hold", clientHold(false))
}

func retentionRun(env *Env, args []string) error {
	fs := flags(env, "retention run")
	data := dataFlag(env, fs)
	dry := fs.Bool("dry-run", false, "list what would be deleted; delete nothing")
	vacuum := fs.Bool("vacuum", false, "give the freed space back to the disk afterwards (holds writes while it runs)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	db, err := sqlite.Open(env.Context, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := retention.Run(env.Context, db, audit.New(db), time.Now(), *dry, "cli:"+osUser())
	if err != nil {
		return err
	}
	var freed int64
	if *vacuum && !*dry && len(r.Sessions) > 0 {
		if freed, err = retention.Reclaim(env.Context, db); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(env.Stdout, map[string]any{"report": r, "freed_bytes": freed})
	}
	if r.Days == 0 {
		fmt.Fprintln(env.Stdout, "No retention period is set (retention set --days N): session content is kept forever.")
		return nil
	}
	verb := "Purged"
	if *dry {
		verb = "Would purge"
	}
	fmt.Fprintf(env.Stdout, "%s the content of %d sessions that ended before %s (%d events, %d readings); %d kept under legal hold.\n",
		verb, len(r.Sessions), r.Cutoff.Local().Format("2006-01-02 15:04"), r.Events, r.Readings, len(r.Held))
	for _, it := range r.Sessions {
		fmt.Fprintf(env.Stdout, "  %s  client %s  ended %s  %d events  %d readings\n", it.Session, it.Client, it.Ended.Local().Format("2006-01-02"), it.Events, it.Readings)
	}
	if freed > 0 {
		fmt.Fprintf(env.Stdout, "Gave %.1f MB back to the disk.\n", float64(freed)/1e6)
	}
	return nil
}

func retentionSet(env *Env, args []string) error {
	fs := flags(env, "retention set")
	data := dataFlag(env, fs)
	days := fs.Int("days", -1, "days session content is kept after a session ends (0: forever)")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *days < 0 {
		return usagef("--days N is required (0 keeps content forever)")
	}
	db, err := sqlite.Open(env.Context, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := retention.SetDays(env.Context, db, *days, "cli:"+osUser()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Session content is now kept %d days after a session ends (0: forever).\n", *days)
	return nil
}

func retentionShow(env *Env, args []string) error {
	fs := flags(env, "retention show")
	data := dataFlag(env, fs)
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	db, err := sqlite.Open(env.Context, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	days, err := retention.Days(env.Context, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%d\n", days)
	return nil
}

func clientHold(hold bool) func(env *Env, args []string) error {
	name := "client release"
	if hold {
		name = "client hold"
	}
	return func(env *Env, args []string) error {
		fs := flags(env, name)
		data := dataFlag(env, fs)
		reason := fs.String("reason", "", "why the records are held (required to hold)")
		pos, err := parse(fs, args, 1, 1, "the client's CODE")
		if err != nil {
			return err
		}
		db, err := sqlite.Open(env.Context, *data)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := retention.SetHold(env.Context, db, pos[0], hold, *reason); err != nil {
			return err
		}
		if hold {
			fmt.Fprintf(env.Stdout, "Client %s is under legal hold: nothing of theirs is purged until it is released.\n", pos[0])
		} else {
			fmt.Fprintf(env.Stdout, "Client %s's legal hold is released.\n", pos[0])
		}
		return nil
	}
}
