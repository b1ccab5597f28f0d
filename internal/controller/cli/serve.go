package cli

import (
	"log/slog"

	"waystation/devices/localaudio/output"
	"waystation/devices/osc"
	"waystation/internal/controller/serve"
	"waystation/internal/platform/waystation"
)

func init() {
	register("serve", "run the controller", runServe)
	register("version", "print the version", func(env *Env, args []string) error {
		fs := flags(env, "version")
		if _, err := parse(fs, args, 0, 0, ""); err != nil {
			return err
		}
		_, err := env.Stdout.Write([]byte(waystation.Version + "\n"))
		return err
	})
}

func runServe(env *Env, args []string) error {
	fs := flags(env, "serve")
	addr := fs.String("addr", envOr(env, "WAYSTATION_ADDR", defaultAddr), "listen on HOST:PORT (env WAYSTATION_ADDR)")
	data := dataFlag(env, fs)
	profiles := profilesFlag(env, fs)
	scales := scalesFlag(env, fs)
	demo := fs.Bool("demo", false, "create the demo site and print its device tokens")
	kioskApp := fs.String("kiosk-app", "", "with --demo: run this waystation-kiosk binary in a window for the sandtray kiosk when a display is available (make run does)")
	oscListen := fs.String("osc-listen", osc.DefaultListen, `UDP HOST:PORT where OSC devices send to the controller ("off": no OSC)`)
	audioOut := fs.String("audio-out", "default", "where the room speakers play: "+output.Specs+` ("default": the sound card, or the null output when there is none)`)
	musicDir := fs.String("music", "", "the music folder (default: DATA/music)")
	weapons := fs.Bool("sandtray-weapons", false, "show the sandtray's weapons (knife, sword, pistol, bomb...) on the kiosks' shelf; off by default")
	debugListen := fs.String("debug-listen", "", "serve Go's profiler (/debug/pprof/) on this loopback HOST:PORT, for measuring under load (default: none)")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if err := output.CheckSpec(*audioOut); err != nil {
		return usagef("%v", err)
	}
	if *debugListen != "" {
		if err := serve.CheckDebugListen(*debugListen); err != nil {
			return usagef("%v", err)
		}
	}
	return serve.Run(env.Context, serve.Config{
		Addr: *addr, DataDir: *data, ProfilesDir: *profiles, ScalesDir: *scales, Demo: *demo, KioskApp: *kioskApp, OSCListen: *oscListen,
		AudioOut: *audioOut, MusicDir: *musicDir, DebugListen: *debugListen, SandtrayWeapons: *weapons,
		Logger: slog.Default(), Out: env.Stdout,
	})
}
