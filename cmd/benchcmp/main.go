// Command waystation-benchcmp runs one workload against the Waystation
// controller and against NATS JetStream on this machine, one after the
// other, and prints both systems' figures and their ratios:
//
//	waystation-benchcmp [--publishers N] [--rate R] [--subscribers M] [--duration D]
//
// The workload: N publishers each sending R events a second, every event
// acknowledged only once it is durable, and M subscribers reading every
// event. Waystation: N websocket kiosks and M consoles (package load), the
// controller fsyncing each group commit before `stored`. JetStream:
// nats-server (built by `make bench-compare` with go install) on 127.0.0.1
// with a file-store stream and `sync_interval: always`, so it too fsyncs
// before it acknowledges; N publishers with asynchronous publish, M ordered
// consumers. JetStream's default periodic sync is run too, as a reference.
// It is a benchmark: it never fails on a number.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"

	"waystation/internal/testkit/load"
)

type options struct {
	publishers, subscribers int
	rate                    float64
	duration                time.Duration
	controller, natsServer  string
	profiles                string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := pflag.NewFlagSet("waystation-benchcmp", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.publishers, "publishers", 50, "publishers (Waystation: websocket kiosks)")
	fs.Float64Var(&o.rate, "rate", 400, "events per second per publisher")
	fs.IntVar(&o.subscribers, "subscribers", 5, "subscribers reading every event (Waystation: consoles)")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "how long each system is loaded")
	fs.StringVar(&o.controller, "controller", "bin/waystation", "the waystation binary")
	fs.StringVar(&o.natsServer, "nats-server", "bin/nats-server", "the nats-server binary (make bench-compare installs it)")
	fs.StringVar(&o.profiles, "profiles", "firmware-profiles", "the profile folder")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.publishers < 1 || o.publishers > load.MaxDevices || o.subscribers < 0 || o.subscribers > 100 || o.rate <= 0 || o.rate > 1000 || o.duration <= 0 || o.duration > time.Hour {
		fmt.Fprintln(stderr, "waystation-benchcmp: --publishers 1-2000, --subscribers 0-100, --rate (0,1000], --duration (0,1h]")
		return 2
	}
	fmt.Fprintf(stdout, "workload: %d publishers x %g events/s (%.0f/s offered), %d subscribers, %s each, durable acknowledgement\n",
		o.publishers, o.rate, float64(o.publishers)*o.rate, o.subscribers, o.duration)
	ws, err := waystation(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "waystation-benchcmp: waystation: %v\n", err)
		return 1
	}
	ws.print(stdout, "waystation (fsync per group commit)")
	js, err := jetStream(ctx, o, true)
	if err != nil {
		fmt.Fprintf(stderr, "waystation-benchcmp: jetstream: %v\n", err)
		return 1
	}
	js.print(stdout, "jetstream (sync_interval: always)")
	jsDefault, err := jetStream(ctx, o, false)
	if err != nil {
		fmt.Fprintf(stderr, "waystation-benchcmp: jetstream (default sync): %v\n", err)
		return 1
	}
	jsDefault.print(stdout, "jetstream (default periodic sync, reference)")
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	fmt.Fprintf(stdout, "ratios waystation / jetstream (sync always): events/s %s, ack p99 %s, delivery p99 %s\n",
		ratio(ws.perS, js.perS), ratio(ws.ackP99, js.ackP99), ratio(ws.deliverP99, js.deliverP99))
	return 0
}

// figures are one system's results.
type figures struct {
	sent, acked            int64
	perS                   float64
	ackP50, ackP99         float64
	deliverP50, deliverP99 float64
	delivered              int64
}

func (f figures) print(w io.Writer, name string) {
	fmt.Fprintf(w, "%-46s acked %d/%d  %8.0f events/s  ack p50 %7.2f p99 %7.2f ms  delivery p50 %7.2f p99 %7.2f ms (%d)\n",
		name, f.acked, f.sent, f.perS, f.ackP50, f.ackP99, f.deliverP50, f.deliverP99, f.delivered)
}

// waystation runs the workload against a fresh controller.
func waystation(ctx context.Context, o options, log io.Writer) (figures, error) {
	data, err := os.MkdirTemp("", "waystation-benchcmp-")
	if err != nil {
		return figures{}, err
	}
	defer os.RemoveAll(data)
	addr, err := load.FreeAddr()
	if err != nil {
		return figures{}, err
	}
	c, err := load.StartController(o.controller, addr, data, o.profiles)
	if err != nil {
		return figures{}, err
	}
	defer c.Stop(syscall.SIGTERM)
	res, err := load.Run(ctx, load.Options{Addr: addr, Data: data, Profiles: o.profiles, Devices: o.publishers,
		Consoles: o.subscribers, Rate: o.rate, Duration: o.duration}, io.Discard)
	if err != nil {
		return figures{}, err
	}
	if res.Lost > 0 || res.Duplicated > 0 {
		fmt.Fprintf(log, "waystation: %d acknowledged events lost, %d doubled\n", res.Lost, res.Duplicated)
	}
	return figures{sent: res.Sent, acked: res.Acked, perS: res.EventsPerS, ackP50: res.StoredP50, ackP99: res.StoredP99,
		deliverP50: res.ConsoleP50, deliverP99: res.ConsoleP99, delivered: res.ConsoleReceived}, nil
}

// jetStream runs the workload against a fresh nats-server.
func jetStream(ctx context.Context, o options, syncAlways bool) (figures, error) {
	dir, err := os.MkdirTemp("", "waystation-benchcmp-nats-")
	if err != nil {
		return figures{}, err
	}
	defer os.RemoveAll(dir)
	addr, err := load.FreeAddr()
	if err != nil {
		return figures{}, err
	}
	host, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf("host: %s\nport: %s\njetstream {\n  store_dir: %q\n", host, port, filepath.Join(dir, "js"))
	if syncAlways {
		conf += "  sync_interval: always\n"
	}
	conf += "}\n"
	confPath := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return figures{}, err
	}
	cmd := exec.Command(o.natsServer, "-c", confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return figures{}, fmt.Errorf("%v (make bench-compare installs nats-server into bin/)", err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	url := "nats://" + addr
	var nc *nats.Conn
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if nc, err = nats.Connect(url); err == nil {
			break
		}
	}
	if err != nil {
		return figures{}, fmt.Errorf("connect: %v: %s", err, out.String())
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return figures{}, err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}, Storage: jetstream.FileStorage}); err != nil {
		return figures{}, err
	}
	slots := int(o.rate*o.duration.Seconds()*1.2) + 64
	ackAt := make([][]atomic.Int64, o.publishers)
	for i := range ackAt {
		ackAt[i] = make([]atomic.Int64, slots)
	}
	var ack, deliver hist
	var sent, acked, delivered, lastAck atomic.Int64

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for range o.subscribers {
		sc, err := nats.Connect(url)
		if err != nil {
			return figures{}, err
		}
		defer sc.Close()
		sjs, _ := jetstream.New(sc)
		cons, err := sjs.OrderedConsumer(runCtx, "BENCH", jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
		if err != nil {
			return figures{}, err
		}
		cc, err := cons.Consume(func(m jetstream.Msg) {
			now := time.Now()
			d := m.Data()
			if len(d) < 16 {
				return
			}
			p, n := int(binary.BigEndian.Uint64(d)), int(binary.BigEndian.Uint64(d[8:]))
			delivered.Add(1)
			if p < len(ackAt) && n < slots {
				if at := ackAt[p][n].Load(); at != 0 {
					deliver.add(now.Sub(time.Unix(0, at)))
					return
				}
			}
			deliver.add(0)
		})
		if err != nil {
			return figures{}, err
		}
		defer cc.Stop()
	}
	loadCtx, stopLoad := context.WithTimeout(runCtx, o.duration)
	defer stopLoad()
	start := time.Now()
	payload := bytes.Repeat([]byte("x"), 80) // about a device event's size
	for p := range o.publishers {
		pc, err := nats.Connect(url)
		if err != nil {
			return figures{}, err
		}
		defer pc.Close()
		pjs, _ := jetstream.New(pc, jetstream.WithPublishAsyncMaxPending(4096))
		futures := make(chan struct {
			f  jetstream.PubAckFuture
			n  int
			at time.Time
		}, 4096)
		wg.Go(func() {
			for x := range futures {
				select {
				case <-x.f.Ok():
					now := time.Now()
					acked.Add(1)
					lastAck.Store(now.UnixNano())
					ack.add(now.Sub(x.at))
					ackAt[p][x.n].Store(now.UnixNano())
				case <-x.f.Err():
				case <-time.After(10 * time.Second):
				}
			}
		})
		wg.Go(func() {
			defer close(futures)
			every := time.Duration(float64(time.Second) / o.rate)
			time.Sleep(time.Duration(p) * every / time.Duration(o.publishers))
			t := time.NewTicker(every)
			defer t.Stop()
			// Each tick sends what is due since the start, as Waystation's
			// load devices do, so both systems are offered the same rate.
			pace := load.NewPace(o.rate)
			for n := 1; n < slots; {
				select {
				case <-loadCtx.Done():
					return
				case <-t.C:
				}
				for due := pace.Due(); due > 0 && n < slots; due, n = due-1, n+1 {
					msg := make([]byte, 16, 16+len(payload))
					binary.BigEndian.PutUint64(msg, uint64(p))
					binary.BigEndian.PutUint64(msg[8:], uint64(n))
					msg = append(msg, payload...)
					now := time.Now()
					f, err := pjs.PublishAsync(fmt.Sprintf("bench.%d", p), msg)
					if err != nil {
						continue
					}
					sent.Add(1)
					futures <- struct {
						f  jetstream.PubAckFuture
						n  int
						at time.Time
					}{f, n, now}
				}
			}
		})
	}
	<-loadCtx.Done()
	elapsed := time.Since(start)
	wg.Wait() // every outstanding acknowledgement, or its 10 s timeout
	time.Sleep(300 * time.Millisecond)
	// Events/s over the time until the last acknowledgement came, as for
	// Waystation: a backlog drained after the load stops does not count
	// as throughput.
	span := max(elapsed, time.Duration(lastAck.Load()-start.UnixNano()))
	return figures{sent: sent.Load(), acked: acked.Load(), perS: math.Round(float64(acked.Load()) / span.Seconds()),
		ackP50: ack.pct(0.5), ackP99: ack.pct(0.99), deliverP50: deliver.pct(0.5), deliverP99: deliver.pct(0.99), delivered: delivered.Load()}, nil
}

// hist keeps latencies for percentiles.
type hist struct {
	mu sync.Mutex
	v  []time.Duration
}

func (h *hist) add(d time.Duration) {
	h.mu.Lock()
	h.v = append(h.v, max(d, 0))
	h.mu.Unlock()
}

func (h *hist) pct(p float64) float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.v) == 0 {
		return 0
	}
	slices.Sort(h.v)
	d := h.v[min(len(h.v)-1, int(p*float64(len(h.v))))]
	return math.Round(float64(d)/float64(time.Millisecond)*100) / 100
}
