package pairing

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/devicetest"
	"waystation/internal/platform/waystation"
)

// site is a store with the shipped profiles and the pairing endpoint on a
// real loopback listener.
type site struct {
	*devicetest.Site
	store     *Store
	url       string
	pingEvery time.Duration // the server's, short so a silent device goes soon
	clock     struct {
		sync.Mutex
		skew time.Duration
	}
}

func newSite(t *testing.T) *site {
	s := &site{Site: devicetest.New(t, "../../firmware-profiles"), pingEvery: 50 * time.Millisecond}
	s.store = NewStore(s.DB, s.Registry)
	s.store.Now = func() time.Time {
		s.clock.Lock()
		defer s.clock.Unlock()
		return time.Now().Add(s.clock.skew)
	}
	srv := NewServer(s.store, s.Registry, s.Set, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.Poll = 20 * time.Millisecond
	srv.PingEvery = s.pingEvery
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	s.url = "ws" + strings.TrimPrefix(hs.URL, "http") + "/v1/devices/pair"
	return s
}

// device starts a device pairing and returns the codes it shows and what it
// ends with.
type device struct {
	codes chan string
	done  chan Done
	errs  chan error
	stop  context.CancelFunc
}

func (s *site) device(t *testing.T, profileID string) *device {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	d := &device{codes: make(chan string, 10), done: make(chan Done, 1), errs: make(chan error, 1), stop: stop}
	go func() {
		res, err := Pair(ctx, s.url, profileID, "1.2.0", func(code string, _ time.Time) { d.codes <- code })
		if err != nil {
			d.errs <- err
			return
		}
		d.done <- res
	}()
	t.Cleanup(stop)
	return d
}

func (d *device) code(t *testing.T) string {
	t.Helper()
	select {
	case c := <-d.codes:
		return c
	case err := <-d.errs:
		t.Fatalf("pairing failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no pairing code shown")
	}
	return ""
}

func (d *device) paired(t *testing.T) Done {
	t.Helper()
	select {
	case res := <-d.done:
		return res
	case err := <-d.errs:
		t.Fatalf("pairing failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the device was never paired")
	}
	return Done{}
}

// approve approves and waits, as the CLI and the devices page do.
func (s *site) approve(code, name string) (Request, error) {
	r, err := s.store.Approve(context.Background(), code, name, devicetest.Room, "tech")
	if err != nil {
		return r, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.store.Wait(ctx, r.ID)
}

func TestPairingSucceeds(t *testing.T) {
	s := newSite(t)
	d := s.device(t, "kiosk-ws-1")
	code := d.code(t)
	if len(code) != CodeDigits || strings.Trim(code, "0123456789") != "" {
		t.Fatalf("code %q", code)
	}
	waiting, _ := s.store.Waiting(context.Background())
	if len(waiting) != 1 || waiting[0].Profile != "kiosk-ws-1" || waiting[0].Firmware != "1.2.0" {
		t.Errorf("waiting %+v", waiting)
	}
	// People type codes with spaces.
	r, err := s.approve(code[:4]+" "+code[4:], "Kiosk 3")
	if err != nil {
		t.Fatal(err)
	}
	got := d.paired(t)
	if got.Device != r.DeviceID || got.Name != "Kiosk 3" || got.Room != devicetest.Room {
		t.Errorf("device got %+v; request %+v", got, r)
	}
	dev, err := s.Registry.Authenticate(context.Background(), got.Token)
	if err != nil || dev.ID != got.Device || dev.ProfileID != "kiosk-ws-1" {
		t.Errorf("the token it got authenticates as %+v, %v", dev, err)
	}
	// Single use.
	if _, err := s.approve(code, "Kiosk 4"); err == nil || !strings.Contains(err.Error(), "was already used (device "+got.Device+")") {
		t.Errorf("reused code: %v", err)
	}
}

func TestWrongCodeAndRateLimit(t *testing.T) {
	s := newSite(t)
	s.store.TTL = time.Hour // outlasts the rate limit's window
	d := s.device(t, "vrstation-ws-1")
	code := d.code(t)
	wrong := "00000000"
	if code == wrong {
		wrong = "00000001"
	}
	for _, tc := range []struct{ code, want string }{
		{wrong, "no device is waiting with pairing code " + wrong},
		{"1234", "a pairing code is 8 digits"},
		{"abcdefgh", "a pairing code is 8 digits"},
	} {
		if _, err := s.approve(tc.code, "Headset"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.code, err, tc.want)
		}
	}
	for i := 3; i < MaxFailures; i++ {
		s.approve(wrong, "Headset")
	}
	// Now even the right code waits.
	_, err := s.approve(code, "Headset")
	if waystation.ErrorCode(err) != waystation.ERATELIMIT || !strings.Contains(err.Error(), "pairing is paused; try again in") {
		t.Fatalf("after %d wrong codes: %v", MaxFailures, err)
	}
	if n := s.Count(`SELECT COUNT(*) FROM devices`); n != 0 {
		t.Errorf("%d devices registered while rate-limited", n)
	}
	// Once the window has passed, it pairs.
	s.clock.Lock()
	s.clock.skew = FailureWindow + time.Second
	s.clock.Unlock()
	if _, err := s.approve(code, "Headset"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	d.paired(t)
}

func TestExpiredCodeIsReplaced(t *testing.T) {
	s := newSite(t)
	s.store.TTL = 300 * time.Millisecond
	d := s.device(t, "kiosk-ws-1")
	first := d.code(t)
	second := d.code(t) // the first expired; the device asked again
	if first == second {
		t.Fatal("the same code twice")
	}
	if _, err := s.approve(first, "Kiosk"); err == nil || !strings.Contains(err.Error(), "expired at") {
		t.Errorf("expired code: %v", err)
	}
	s.store.TTL = time.Minute // the third code, if any, lasts
	// The second code may expire before it is entered; then a third comes.
	for c := second; ; c = d.code(t) {
		if _, err := s.approve(c, "Kiosk"); err == nil {
			break
		} else if !strings.Contains(err.Error(), "expired") {
			t.Fatal(err)
		}
	}
	d.paired(t)
}

// A name already taken in the room is refused, and the device keeps
// waiting with its code for another name.
func TestNameTakenKeepsTheDeviceWaiting(t *testing.T) {
	s := newSite(t)
	s.Add("kiosk-ws-1", "")
	d := s.device(t, "kiosk-ws-1")
	code := d.code(t)
	if _, err := s.approve(code, "kiosk-ws-1"); err == nil || !strings.Contains(err.Error(), "already has a device named") {
		t.Fatalf("taken name: %v", err)
	}
	if _, err := s.approve(code, "Kiosk 2"); err != nil {
		t.Fatal(err)
	}
	if got := d.paired(t); got.Name != "Kiosk 2" {
		t.Errorf("paired as %+v", got)
	}
}

func TestDeviceGoneAndBadProfiles(t *testing.T) {
	s := newSite(t)
	d := s.device(t, "kiosk-ws-1")
	code := d.code(t)
	d.stop()
	devicetest.Wait(t, "the request abandoned", func() bool {
		return s.Count(`SELECT COUNT(*) FROM pairing_requests WHERE state = 'abandoned'`) == 1
	})
	if _, err := s.approve(code, "Kiosk"); err == nil || !strings.Contains(err.Error(), "stopped waiting (the device disconnected)") {
		t.Errorf("code of a device that went: %v", err)
	}
	for _, tc := range []struct{ profile, want string }{
		{"toaster-1", "no profile toaster-1 on this controller"},
		{"vr-osc-1", "only websocket devices pair"},
	} {
		_, err := Pair(context.Background(), s.url, tc.profile, "1.0.0", func(string, time.Time) { t.Error("a code was shown") })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.profile, err, tc.want)
		}
	}
}

// A device whose connection went half-open while it waited (it answers
// nothing, not even pings) stops holding its place: the controller pings,
// hears nothing and abandons the request.
func TestHalfOpenDeviceIsAbandoned(t *testing.T) {
	s := newSite(t)
	ws, _, err := websocket.DefaultDialer.Dial(s.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(Hello{Type: "pair", Profile: "kiosk-ws-1", Firmware: "1.2.0"})
	var c Code
	if err := ws.ReadJSON(&c); err != nil || c.Code == "" {
		t.Fatalf("code: %+v %v", c, err)
	}
	// From now on this device reads nothing, so it answers no ping.
	devicetest.Wait(t, "the silent device's request abandoned", func() bool {
		return s.Count(`SELECT COUNT(*) FROM pairing_requests WHERE state = 'abandoned'`) == 1
	})
	// A device that keeps reading (as Pair does) answers the pings and
	// waits on.
	d := s.device(t, "kiosk-ws-1")
	code := d.code(t)
	time.Sleep(10 * s.pingEvery)
	if _, err := s.approve(code, "Kiosk"); err != nil {
		t.Fatalf("approve a device that answered the pings: %v", err)
	}
	d.paired(t)
}
