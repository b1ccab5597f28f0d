package cli

import (
	"context"
	"fmt"
	"os/user"
	"time"

	"waystation/devices/pairing"
	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
)

func init() {
	register("device pair", "pair a device showing a code: device pair CODE --name N --room R", devicePair)
	register("device pairing", "list the devices waiting to be paired, with their profile and firmware", devicePairing)
}

// pairWait bounds how long `device pair` waits for the serving controller
// to hand the device its token.
const pairWait = 15 * time.Second

func devicePair(env *Env, args []string) error {
	fs := flags(env, "device pair")
	data := dataFlag(env, fs)
	name := fs.String("name", "", "the device's name (required)")
	room := fs.String("room", "", "its room, by name or id (required)")
	asJSON := fs.Bool("json", false, "print the paired device as JSON")
	pos, err := parse(fs, args, 1, 1, "the CODE the device shows")
	if err != nil {
		return err
	}
	if *name == "" || *room == "" {
		return usagef("--name and --room are required")
	}
	db, err := sqlite.Open(env.Context, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	reg := registry.New(db)
	store := pairing.NewStore(db, reg)
	r, err := store.Approve(env.Context, pos[0], *name, *room, "cli:"+osUser())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(env.Context, pairWait)
	defer cancel()
	r, err = store.Wait(ctx, r.ID)
	if err != nil {
		return err
	}
	d, err := reg.Get(env.Context, r.DeviceID)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, d)
	}
	fmt.Fprintf(env.Stdout, "Paired %s %q (%s) in %s; it has its token and connects by itself.\n", d.ID, d.Name, d.ProfileID, d.Room)
	return nil
}

func devicePairing(env *Env, args []string) error {
	fs := flags(env, "device pairing")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the requests as a JSON array")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	db, err := sqlite.Open(env.Context, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	waiting, err := pairing.NewStore(db, registry.New(db)).Waiting(env.Context)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, waiting)
	}
	if len(waiting) == 0 {
		fmt.Fprintln(env.Stdout, "No device is waiting to be paired.")
		return nil
	}
	for _, r := range waiting {
		fmt.Fprintf(env.Stdout, "%s  %s firmware %s from %s, code valid until %s\n", r.ID, r.Profile, r.Firmware, r.Remote, r.Expires.Local().Format("15:04:05"))
	}
	return nil
}

// osUser names who ran the command, for the pairing record.
func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
