package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"waystation/internal/platform/audit"
	"waystation/internal/platform/columns"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

func init() {
	register("audit verify", "walk the audit log's hash chain; exit 1 naming the first broken row", auditVerify)
	register("audit list", "show the audit log, newest first", auditList)
}

// audited are the commands that change accounts, devices or rooms, or copy
// data out: each run is recorded in the audit log as cli:OSUSER.
var audited = map[string]bool{
	"user add": true, "user passwd": true, "user disable": true, "user enable": true,
	"device add": true, "device remove": true, "device rotate-token": true, "device pair": true,
	"room add": true, "backup": true, "restore": true, "export": true, "retention run": true,
	"retention set": true, "client hold": true, "client release": true,
}

// auditRun records a CLI command in the data folder's audit log, if the
// folder holds a store (a command that failed before creating one leaves
// nothing to record in). Secrets never reach the command line (passwords
// come on standard input), so the arguments are kept as given.
func auditRun(env *Env, name string, args []string, runErr error) {
	if !audited[name] {
		return
	}
	dir := dataDirOf(env, args)
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err != nil {
		return
	}
	ctx := context.WithoutCancel(env.Context)
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		return
	}
	defer db.Close()
	outcome, target := audit.OK, ""
	var ue *usageError
	switch {
	case errors.As(runErr, &ue):
		return // the command line was wrong: nothing was tried
	case runErr != nil && (waystation.ErrorCode(runErr) == waystation.EFORBIDDEN || waystation.ErrorCode(runErr) == waystation.ERATELIMIT):
		outcome = audit.Refused
	case runErr != nil:
		outcome = audit.Failed
	}
	target = targetOf(args)
	d := map[string]any{"args": args}
	if runErr != nil {
		d["error"] = message(runErr)
	}
	detail, _ := json.Marshal(d)
	if _, err := audit.New(db).Record(ctx, audit.Entry{Actor: "cli:" + osUser(), Action: "cli " + name, Target: target, Outcome: outcome, Detail: detail}); err != nil {
		fmt.Fprintf(env.Stderr, "waystation %s: not recorded in the audit log: %v\n", name, err)
	}
}

// targetOf is what a command acted on: its first argument that is not a
// flag or a flag's value, else its --name.
func targetOf(args []string) string {
	name := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--name" && i+1 < len(args):
			name = args[i+1]
			i++
		case strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && a != "--json" && i+1 < len(args):
			i++ // its value
		case !strings.HasPrefix(a, "-"):
			return a
		}
	}
	return name
}

// dataDirOf finds the --data a command was given, else WAYSTATION_DATA,
// else the default.
func dataDirOf(env *Env, args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--data="); ok {
			return v
		}
		if a == "--data" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return envOr(env, "WAYSTATION_DATA", defaultData)
}

func auditVerify(env *Env, args []string) error {
	fs := flags(env, "audit verify")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	db, err := sqlite.Open(env.Context, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := audit.Verify(env.Context, db.R)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(env.Stdout, r); err != nil {
			return err
		}
	} else if r.Broken == nil {
		fmt.Fprintf(env.Stdout, "The audit chain holds: %d rows.\n", r.Rows)
	}
	if r.Broken != nil {
		return waystation.Errorf(waystation.ECONFLICT, "the audit chain is broken at row %d: %s (%d rows before it hold)", r.Broken.Seq, r.Broken.Reason, r.Rows)
	}
	return nil
}

func auditList(env *Env, args []string) error {
	fs := flags(env, "audit list")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the rows as a JSON array")
	var f audit.Filter
	fs.StringVar(&f.Actor, "actor", "", "only this actor (user:NAME, cli:NAME, system)")
	fs.StringVar(&f.Action, "action", "", `only this action; a trailing "*" matches a prefix ("GET /v1/sessions*")`)
	fs.StringVar(&f.Target, "target", "", "only this target (a session, client code, device)")
	fs.StringVar(&f.Outcome, "outcome", "", "ok, refused or failed")
	fs.IntVar(&f.Limit, "limit", 50, "at most this many rows (1-1000)")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	db, err := sqlite.Open(env.Context, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	es, err := audit.New(db).List(env.Context, f)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, es)
	}
	tw := columns.New(env.Stdout)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tOUTCOME\tFROM")
	for _, e := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.TS.Local().Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Target, e.Outcome, e.Remote)
	}
	return tw.Flush()
}
