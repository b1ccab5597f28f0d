package cli

import (
	"errors"
	"fmt"
	"strings"

	"waystation/devices/profile"
	"waystation/internal/platform/columns"
)

func init() {
	register("profile lint", "check a profile folder: profile lint [DIR]", profileLint)
	register("profile list", "list the loaded profiles", profileList)
}

func profileLint(env *Env, args []string) error {
	fs := flags(env, "profile lint")
	pos, err := parse(fs, args, 0, 1, "at most one folder")
	if err != nil {
		return err
	}
	dir := envOr(env, "WAYSTATION_PROFILES", defaultProfiles)
	if len(pos) == 1 {
		dir = pos[0]
	}
	set, err := profile.LoadDir(dir)
	if err != nil {
		var errs profile.Errors
		if errors.As(err, &errs) {
			return fmt.Errorf("%d problem(s) in %s:\n%w", len(errs), dir, err)
		}
		return err
	}
	if len(set.List()) == 0 {
		return fmt.Errorf("no profiles (*.yaml) in %s", dir)
	}
	fmt.Fprintf(env.Stdout, "%d profiles in %s: all good.\n", len(set.List()), dir)
	return nil
}

// profileJSON is a profile as `profile list --json` prints it.
type profileJSON struct {
	*profile.Profile
	Firmware string `json:"firmware"`
}

func profileList(env *Env, args []string) error {
	fs := flags(env, "profile list")
	dir := profilesFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the profiles as a JSON array")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	set, err := profile.LoadDir(*dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "warning: some profiles did not load (run: waystation profile lint %s)\n", *dir)
	}
	if *asJSON {
		out := []profileJSON{}
		for _, p := range set.List() {
			out = append(out, profileJSON{p, p.Firmware.String()})
		}
		return writeJSON(env.Stdout, out)
	}
	tw := columns.New(env.Stdout)
	fmt.Fprintln(tw, "ID\tKIND\tTRANSPORT\tFIRMWARE\tMODEL")
	for _, p := range set.List() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Kind, p.Transport, p.Firmware, strings.TrimSpace(p.Model))
	}
	return tw.Flush()
}
