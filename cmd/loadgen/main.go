// Command waystation-loadgen puts a running controller under load and
// measures what its promises cost:
//
//	waystation-loadgen --addr HOST:PORT --data DIR --devices N --rate R --consoles M --duration D [--json]
//
// It registers N kiosks and a counsellor account through the CLI on the
// controller's data folder DIR, opens sessions for them (16 stations each)
// and runs, for a bounded duration, N websocket devices each sending R
// events a second, M consoles subscribed to every session, and one console
// steering a device every 200 ms (package load). It prints p50/p90/p99/max
// of device event -> `stored`, stored -> console receipt and console
// command -> device, with events/s and a progress line while it runs, then
// reads the store back and exits 1 if an acknowledged event is missing or
// stored twice. It ends its sessions and removes its devices.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"waystation/internal/testkit/load"
	"waystation/internal/testkit/prism"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o load.Options
	var asJSON bool
	fs := pflag.NewFlagSet("waystation-loadgen", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "the controller's HOST:PORT")
	fs.StringVar(&o.Data, "data", "data", "the controller's data folder (devices and an account are registered there)")
	fs.StringVar(&o.Profiles, "profiles", "firmware-profiles", "the profile folder the controller uses")
	fs.IntVar(&o.Devices, "devices", 200, fmt.Sprintf("websocket devices (kiosks), at most %d", load.MaxDevices))
	fs.Float64Var(&o.Rate, "rate", 10, "events per second per device")
	fs.IntVar(&o.Consoles, "consoles", 50, fmt.Sprintf("consoles subscribed to every session, at most %d", load.MaxConsoles))
	fs.DurationVar(&o.Duration, "duration", time.Minute, "how long the load runs")
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	fs.IntVar(&o.PID, "pid", 0, "the controller's process id: its resident memory and threads are sampled")
	fs.StringVar(&o.DebugAddr, "debug-addr", "", "the controller's --debug-listen HOST:PORT: its goroutines are counted")
	prismDir := fs.String("prism", os.Getenv(prism.Env), "check the REST calls against the API document with Stoplight Prism installed in this folder (make test: internal/controller/api/openapilint)")
	cpuProfile := fs.String("cpuprofile", "", "write the generator's own CPU profile to this file (to see what the generator costs)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := o.Check(); err != nil {
		fmt.Fprintf(stderr, "waystation-loadgen: %v\n", err)
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "waystation-loadgen: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "waystation-loadgen: cpu profile: %v\n", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	var px *prism.Proxy
	if *prismDir != "" {
		var err error
		if px, err = prism.Start(ctx, *prismDir); err != nil {
			fmt.Fprintf(stderr, "waystation-loadgen: %v\n", err)
			return 2
		}
		defer px.Close()
		o.REST = px.Transport
	}
	res, err := load.Run(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "waystation-loadgen: %v\n", err)
		return 1
	}
	if px != nil {
		if err := px.Check(); err != nil {
			fmt.Fprintf(stderr, "waystation-loadgen: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "%d REST calls checked against the API document by Prism: no violation\n", px.Calls())
	}
	if asJSON {
		json.NewEncoder(stdout).Encode(res)
	} else {
		res.Print(stdout)
	}
	if res.Lost > 0 || res.Duplicated > 0 || res.ConsoleGaps > 0 || res.ConsoleDuplicates > 0 {
		return 1
	}
	return 0
}
