package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/columns"
	"waystation/internal/platform/waystation"
)

// demoDevice is one device of the demo site.
type demoDevice struct {
	room, name, profile string
	simulate            bool // run a simulated device for it
	// group makes a simulated kiosk's member build a group session's
	// shared sandtray in their turn (devsim --group-tray).
	group bool
}

var demoAccounts = []struct {
	name string
	role auth.Role
}{
	{"demo-counsellor", auth.Counsellor},
	{"demo-technician", auth.Technician},
	{"demo-admin", auth.Admin},
}

var demoRooms = []string{"Relaxation room", "VR station", "Sandtray corner", "Group room"}

var demoDevices = []demoDevice{
	{"Relaxation room", "Relaxation kiosk", "kiosk-ws-1", true, false},
	{"Relaxation room", "Room speakers", "speakers-local-1", false, false},
	{"VR station", "VR headset 1", "vrstation-ws-1", true, false},
	// Their addresses are where their simulators run at this start.
	{"VR station", "VR headset 2 (OSC)", "vr-osc-1", true, false},
	{"VR station", "Biofeedback sensor", "biosensor-serial-1", true, false},
	// Left for the kiosk app (waystation-kiosk) to connect with its token.
	{"Sandtray corner", "Sandtray kiosk", "kiosk-ws-1", false, false},
	// A group counselling room: a kiosk for each of four members, whose
	// simulated members build a group's shared sandtray in their turns.
	{"Group room", "Group kiosk 1", "kiosk-ws-1", true, true},
	{"Group room", "Group kiosk 2", "kiosk-ws-1", true, true},
	{"Group room", "Group kiosk 3", "kiosk-ws-1", true, true},
	{"Group room", "Group kiosk 4", "kiosk-ws-1", true, true},
}

// seedDemo creates the demo site where it is missing, and gives every demo
// device a fresh token: only hashes are stored, so the tokens printed at the
// last start cannot be printed again.
// demoSim is a demo device to simulate: its profile and fresh token.
type demoSim struct {
	profile *profile.Profile
	token   string
	// app says the device is left for a real app (the sandtray kiosk for
	// waystation-kiosk), not simulated.
	app bool
	// group: a group room's kiosk (demoDevice.group).
	group bool
}

// addresses gives the OSC and serial devices' addresses at this start, by
// device name; a device that needs an address and has none is left out.
func seedDemo(ctx context.Context, reg *registry.Registry, accounts *auth.Store, profiles *profile.Set, addr string, addresses map[string]string, out io.Writer) ([]demoSim, error) {
	var sims []demoSim
	for _, name := range demoRooms {
		if _, err := reg.FindRoom(ctx, name); waystation.ErrorCode(err) == waystation.ENOTFOUND {
			if _, err := reg.AddRoom(ctx, name); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
	}
	existing, err := reg.List(ctx)
	if err != nil {
		return nil, err
	}
	// The whole text goes out in one write at the end: the adapters log
	// as the devices appear, and a log line must not split the tables.
	final := out
	var buf bytes.Buffer
	out = &buf
	tw := columns.New(out)
	fmt.Fprintf(out, "\nWaystation demo site at http://%s\n\n", addr)
	fmt.Fprintln(tw, "ROOM\tDEVICE\tID\tPROFILE\tTOKEN")
	for _, dd := range demoDevices {
		p, ok := profiles.Get(dd.profile)
		if !ok {
			continue
		}
		address := addresses[dd.name]
		needs := p.Transport == profile.TransportOSC || p.Transport == profile.TransportSerial
		if needs && address == "" {
			continue
		}
		var id, token string
		for _, d := range existing {
			if d.Name == dd.name && d.Room == dd.room {
				id = d.ID
			}
		}
		if id == "" {
			d, t, err := reg.Add(ctx, profiles, registry.NewDevice{Profile: dd.profile, Name: dd.name, Room: dd.room, Address: address})
			if err != nil {
				return nil, err
			}
			id, token = d.ID, t
		} else {
			_, t, err := reg.RotateToken(ctx, id)
			if err != nil {
				return nil, err
			}
			token = t
			if needs {
				if _, err := reg.SetAddress(ctx, profiles, id, address); err != nil {
					return nil, err
				}
			}
		}
		if needs {
			token = "(" + address + ")" // these transports use no token
		}
		if p.Transport == profile.TransportLocalAudio {
			token = "(played by this controller: --audio-out)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", dd.room, dd.name, id, dd.profile, token)
		if p.Transport == profile.TransportWebsocket {
			sims = append(sims, demoSim{profile: p, token: token, app: !dd.simulate, group: dd.group})
		}
	}
	tw.Flush()
	fmt.Fprintln(out, "\nDemo accounts (passwords are new at every start):")
	fmt.Fprintln(tw, "ROLE\tUSER\tPASSWORD")
	for _, da := range demoAccounts {
		pw := auth.NewPassword()
		if _, err := accounts.Get(ctx, da.name); waystation.ErrorCode(err) == waystation.ENOTFOUND {
			if _, err := accounts.Add(ctx, da.name, da.role, pw); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		} else if _, err := accounts.SetPassword(ctx, da.name, pw); err != nil {
			return nil, err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", da.role, da.name, pw)
	}
	tw.Flush()
	fmt.Fprintf(out, "\nThe VR headsets, the biofeedback sensor and the relaxation kiosk are simulated by the controller itself;\nthe sandtray kiosk is the kiosk app (waystation-kiosk), in a window when this machine has a display.\n")
	fmt.Fprintf(out, "the room speakers play on this machine's sound output (the log says which), with generated demo tracks.\n")
	fmt.Fprintf(out, "The group room's four kiosks are simulated too: plan a group session there (New session, Group session, a kiosk per member)\nand its members build the shared sandtray in their turns.\n")
	fmt.Fprintf(out, "A real device connects to ws://%s/v1/devices/ws with the header Authorization: Bearer TOKEN.\n", addr)
	fmt.Fprintf(out, "\nConsole: http://%s/  (log in as demo-counsellor)\n\n", addr)
	if _, err := final.Write(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("demo: print the site: %w", err)
	}
	return sims, nil
}

// runKioskApp runs the kiosk app for the demo's sandtray kiosk in a window
// when this machine has a display, until ctx ends.
func runKioskApp(ctx context.Context, cfg Config, addr, token string, log *slog.Logger) {
	if os.Getenv("DISPLAY") == "" {
		log.Info("demo: no display (DISPLAY is not set), so no kiosk window; the sandtray kiosk waits for waystation-kiosk with its token")
		return
	}
	cmd := exec.CommandContext(ctx, cfg.KioskApp, "--controller", "http://"+addr, "--journal", filepath.Join(cfg.DataDir, "kiosk-journal"),
		"--window", "1280x720", "--lang", "zh")
	cmd.Env = append(os.Environ(), "WAYSTATION_TOKEN="+token)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	log.Info("demo: the sandtray kiosk runs in a window", "app", cfg.KioskApp)
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		log.Warn("demo: the kiosk window stopped", "err", err, "output", strings.TrimSpace(out.String()))
	}
}
