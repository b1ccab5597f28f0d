package devices_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/devices"
	"waystation/devices/devicetest"
	"waystation/devices/profile"
)

// Workers follow the registry: a worker for each device of the transport,
// stopped and started again when its address changes, stopped when it is
// removed, and all stopped when Run ends.
func TestWorkers(t *testing.T) {
	site := devicetest.New(t, "../firmware-profiles")
	var mu sync.Mutex
	var log []string
	ws := &devices.Workers{Every: 20 * time.Millisecond, Name: "test", Logger: site.Intake.Logger,
		Watch: devices.Watch{Registry: site.Registry, Profiles: site.Set, Transport: profile.TransportSerial},
		Work: func(ctx context.Context, w devices.Watched) {
			mu.Lock()
			log = append(log, "start "+w.Device.Address)
			mu.Unlock()
			<-ctx.Done()
			mu.Lock()
			log = append(log, "stop "+w.Device.Address)
			mu.Unlock()
		}}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { ws.Run(ctx); close(ran) }()
	seen := func(want ...string) {
		t.Helper()
		// A stopped worker and its successor run side by side for a moment:
		// the order of their lines is not fixed.
		slices.Sort(want)
		devicetest.Wait(t, "workers "+strings.Join(want, ", "), func() bool {
			mu.Lock()
			defer mu.Unlock()
			got := slices.Clone(log)
			slices.Sort(got)
			return slices.Equal(got, want)
		})
	}
	d := site.Add("biosensor-serial-1", "/dev/ttyUSB0")
	site.Add("kiosk-ws-1", "") // another transport: no worker
	seen("start /dev/ttyUSB0")
	if _, err := site.Registry.SetAddress(context.Background(), site.Profiles, d.ID, "/dev/ttyUSB1"); err != nil {
		t.Fatal(err)
	}
	seen("start /dev/ttyUSB0", "stop /dev/ttyUSB0", "start /dev/ttyUSB1")
	if _, err := site.Registry.Remove(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	seen("start /dev/ttyUSB0", "stop /dev/ttyUSB0", "start /dev/ttyUSB1", "stop /dev/ttyUSB1")
	site.Add("biosensor-serial-1", "/dev/ttyUSB2")
	seen("start /dev/ttyUSB0", "stop /dev/ttyUSB0", "start /dev/ttyUSB1", "stop /dev/ttyUSB1", "start /dev/ttyUSB2")
	stop()
	<-ran
	mu.Lock()
	defer mu.Unlock()
	if log[len(log)-1] != "stop /dev/ttyUSB2" {
		t.Errorf("after Run: %v", log)
	}
}
