package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/columns"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

func init() {
	register("room add", "add a room: room add NAME", roomAdd)
	register("room list", "list the rooms", roomList)
	register("device add", "register a device and print its token once", deviceAdd)
	register("device list", "list the registered devices", deviceList)
	register("device show", "show one device: device show ID", deviceShow)
	register("device remove", "unregister a device; its token stops working at once", deviceRemove)
	register("device rotate-token", "issue a new token; the old one stops working at once", deviceRotate)
	register("device set-pin", "set a kiosk's technician PIN (on standard input; an empty line clears it): device set-pin ID", deviceSetPIN)
}

// openRegistry opens the data folder's store. It works beside a running
// controller: SQLite in WAL mode lets both in, and the controller notices
// registry changes within a fraction of a second.
func openRegistry(ctx context.Context, dir string) (*registry.Registry, func(), error) {
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	return registry.New(db), func() { db.Close() }, nil
}

func roomAdd(env *Env, args []string) error {
	fs := flags(env, "room add")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the room as JSON")
	pos, err := parse(fs, args, 1, 1, "the room's NAME (quote a name with spaces)")
	if err != nil {
		return err
	}
	reg, done, err := openRegistry(env.Context, *data)
	if err != nil {
		return err
	}
	defer done()
	room, err := reg.AddRoom(env.Context, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, room)
	}
	fmt.Fprintf(env.Stdout, "Added room %q (%s).\n", room.Name, room.ID)
	return nil
}

func roomList(env *Env, args []string) error {
	fs := flags(env, "room list")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the rooms as a JSON array")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	reg, done, err := openRegistry(env.Context, *data)
	if err != nil {
		return err
	}
	defer done()
	rooms, err := reg.Rooms(env.Context)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, rooms)
	}
	tw := columns.New(env.Stdout)
	fmt.Fprintln(tw, "ID\tNAME")
	for _, r := range rooms {
		fmt.Fprintf(tw, "%s\t%s\n", r.ID, r.Name)
	}
	return tw.Flush()
}

// deviceWithToken is the JSON printed when a token is issued.
type deviceWithToken struct {
	waystation.Device
	Token string `json:"token"`
}

func deviceAdd(env *Env, args []string) error {
	fs := flags(env, "device add")
	prof := fs.String("profile", "", "profile id (see: waystation profile list)")
	name := fs.String("name", "", "the device's name, unique in its room")
	room := fs.String("room", "", "room name or id")
	address := fs.String("address", "", "OSC devices: HOST:PORT where the device listens")
	port := fs.String("port", "", "serial devices: the serial port, such as /dev/ttyUSB0")
	data := dataFlag(env, fs)
	profiles := profilesFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the device and its token as JSON")
	withPIN := fs.Bool("pin", false, "kiosks: read the technician's PIN (4 to 12 digits; it opens the kiosk's settings page) from standard input")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	var pin string
	if *withPIN {
		var err error
		if pin, err = readSecret(env, "PIN", "echo 2468 | waystation device add ... --pin"); err != nil {
			return err
		}
		if pin == "" {
			return usagef("--pin: no PIN on standard input (echo 2468 | waystation device add ... --pin)")
		}
	}
	for _, f := range []struct{ flag, v string }{{"--profile", *prof}, {"--name", *name}, {"--room", *room}} {
		if f.v == "" {
			return usagef("%s is required (device add --profile ID --name NAME --room ROOM)", f.flag)
		}
	}
	if *address != "" && *port != "" {
		return usagef("give --address (OSC) or --port (serial), not both")
	}
	set, err := loadProfiles(*profiles)
	if err != nil {
		return err
	}
	reg, done, err := openRegistry(env.Context, *data)
	if err != nil {
		return err
	}
	defer done()
	d, token, err := reg.Add(env.Context, set, registry.NewDevice{Profile: *prof, Name: *name, Room: *room, Address: *address + *port, PIN: pin})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, deviceWithToken{d, token})
	}
	fmt.Fprintf(env.Stdout, "Registered %s %q in %s (profile %s).\n", d.ID, d.Name, d.Room, d.ProfileID)
	printToken(env.Stdout, token)
	return nil
}

func printToken(w io.Writer, token string) {
	fmt.Fprintf(w, "Device token (shown once; enter it on the device now, it cannot be shown again):\n  %s\n", token)
}

// loadProfiles loads the profile folder. Broken files do not stop a device
// from being registered with a good profile; they are reported when the
// chosen profile is missing, via the registry's error listing what loaded.
func loadProfiles(dir string) (*profile.Set, error) {
	set, err := profile.LoadDir(dir)
	if len(set.List()) == 0 && err != nil {
		return nil, fmt.Errorf("no profiles loaded from %s:\n%w", dir, err)
	}
	return set, nil
}

func deviceList(env *Env, args []string) error {
	fs := flags(env, "device list")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the devices as a JSON array")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	reg, done, err := openRegistry(env.Context, *data)
	if err != nil {
		return err
	}
	defer done()
	devices, err := reg.List(env.Context)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, devices)
	}
	tw := columns.New(env.Stdout)
	fmt.Fprintln(tw, "ID\tNAME\tROOM\tPROFILE\tSTATUS\tFIRMWARE\tLAST SEEN")
	for _, d := range devices {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Room, d.ProfileID, d.Status, firmwareText(d), seenText(d.LastSeen))
	}
	return tw.Flush()
}

func firmwareText(d waystation.Device) string {
	switch {
	case d.Firmware == "":
		return "-"
	case d.FirmwareOK != nil && !*d.FirmwareOK:
		return d.Firmware + " (OUT OF RANGE)"
	}
	return d.Firmware
}

func seenText(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// oneDevice is the shape of show, remove and rotate-token.
func oneDevice(name string, act func(ctx context.Context, reg *registry.Registry, ref string) (waystation.Device, string, error),
	say func(w io.Writer, d waystation.Device, token string)) func(env *Env, args []string) error {
	return func(env *Env, args []string) error {
		fs := flags(env, name)
		data := dataFlag(env, fs)
		asJSON := fs.Bool("json", false, "print the device as JSON")
		pos, err := parse(fs, args, 1, 1, "the device's ID (or its name, when unique)")
		if err != nil {
			return err
		}
		reg, done, err := openRegistry(env.Context, *data)
		if err != nil {
			return err
		}
		defer done()
		d, token, err := act(env.Context, reg, pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			if token != "" {
				return writeJSON(env.Stdout, deviceWithToken{d, token})
			}
			return writeJSON(env.Stdout, d)
		}
		say(env.Stdout, d, token)
		return nil
	}
}

var (
	deviceShow = oneDevice("device show",
		func(ctx context.Context, reg *registry.Registry, ref string) (waystation.Device, string, error) {
			d, err := reg.Get(ctx, ref)
			return d, "", err
		},
		func(w io.Writer, d waystation.Device, _ string) {
			tw := columns.New(w)
			fmt.Fprintf(tw, "id\t%s\nname\t%s\nroom\t%s\nprofile\t%s\nstatus\t%s\nfirmware\t%s\nlast seen\t%s\nregistered\t%s\n",
				d.ID, d.Name, d.Room, d.ProfileID, d.Status, firmwareText(d), seenText(d.LastSeen), d.Created.Local().Format("2006-01-02 15:04"))
			if d.Address != "" {
				fmt.Fprintf(tw, "address\t%s\n", d.Address)
			}
			if d.FirmwareNote != "" {
				fmt.Fprintf(tw, "note\t%s\n", d.FirmwareNote)
			}
			tw.Flush()
		})
	deviceRemove = oneDevice("device remove",
		func(ctx context.Context, reg *registry.Registry, ref string) (waystation.Device, string, error) {
			d, err := reg.Remove(ctx, ref)
			return d, "", err
		},
		func(w io.Writer, d waystation.Device, _ string) {
			fmt.Fprintf(w, "Removed %s %q from %s; its token no longer works.\n", d.ID, d.Name, d.Room)
		})
	deviceRotate = oneDevice("device rotate-token",
		func(ctx context.Context, reg *registry.Registry, ref string) (waystation.Device, string, error) {
			return reg.RotateToken(ctx, ref)
		},
		func(w io.Writer, d waystation.Device, token string) {
			fmt.Fprintf(w, "New token for %s %q; the old one stopped working.\n", d.ID, d.Name)
			printToken(w, token)
		})
)

func deviceSetPIN(env *Env, args []string) error {
	fs := flags(env, "device set-pin")
	data := dataFlag(env, fs)
	profiles := profilesFlag(env, fs)
	rest, err := parse(fs, args, 1, 1, "device set-pin ID (the PIN on standard input)")
	if err != nil {
		return err
	}
	pin, err := readSecret(env, "PIN", "echo 2468 | waystation device set-pin ID")
	if err != nil {
		return err
	}
	set, err := loadProfiles(*profiles)
	if err != nil {
		return err
	}
	reg, done, err := openRegistry(env.Context, *data)
	if err != nil {
		return err
	}
	defer done()
	if err := reg.SetPIN(env.Context, set, rest[0], pin); err != nil {
		return err
	}
	if pin == "" {
		fmt.Fprintf(env.Stdout, "Cleared the PIN of %s; its settings page cannot be opened until one is set.\n", rest[0])
	} else {
		fmt.Fprintf(env.Stdout, "Set the PIN of %s; the kiosk learns it when it next connects.\n", rest[0])
	}
	return nil
}
