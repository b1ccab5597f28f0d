package sessions

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkGroupTray8 is the group tray's latency with eight kiosks, each
// a real websocket on 127.0.0.1 to a controller storing every action in
// SQLite on disk: from a kiosk sending an action to each of the other
// seven holding the step the controller pushed (stored first). "one at a
// time": the kiosks act in turn, each waiting for the last action to be
// on every kiosk; "all eight at once": every kiosk sends its next action
// as soon as its last is stored (far busier than a group of people).
// Reported: p50-ms, p99-ms and max-ms over every (action, other kiosk).
func BenchmarkGroupTray8(b *testing.B) {
	for _, mode := range []string{"one at a time", "all eight at once"} {
		b.Run(mode, func(b *testing.B) { benchGroupTray(b, mode == "all eight at once") })
	}
}

func benchGroupTray(b *testing.B, together bool) {
	e := newEnv(b)
	ctx := context.Background()
	s, _, tokens := e.groupSession(8)
	var mu sync.Mutex
	sent := map[string][]time.Time{}    // member -> send time of each action
	arrived := map[string][]time.Time{} // "member n" -> when each other kiosk had it
	var lat []float64                   // ms
	var ks []*groupKiosk
	for _, tok := range tokens {
		k := e.groupKiosk(tok)
		k.onStep = func(you, member string, n int, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			key := fmt.Sprintf("%s %d", member, n)
			arrived[key] = append(arrived[key], at)
			if you != member && n < len(sent[member]) { // the other seven
				lat = append(lat, float64(at.Sub(sent[member][n]).Microseconds())/1000)
			}
		}
		ks = append(ks, k.start())
	}
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "start"); err != nil {
		b.Fatal(err)
	}
	for _, k := range ks {
		for range 500 {
			if _, _, you, _, sand := k.view(); you != "" && sand != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, err := e.engine.GroupControl(ctx, e.alice, s.ID, GroupFree, ""); err != nil {
		b.Fatal(err)
	}
	// action is a kiosk's nth action: a place while the tray has room,
	// then moves of the figures placed.
	action := func(i int) (string, string) {
		x, y := 0.05+0.9*float64(i%97)/97, 0.05+0.9*float64(i%89)/89
		if i < 200 {
			return "sandtray.place", fmt.Sprintf(`{"figure":"lion","x":%.4f,"y":%.4f}`, x, y)
		}
		return "sandtray.move", fmt.Sprintf(`{"id":%d,"x":%.4f,"y":%.4f}`, i%200+1, x, y)
	}
	send := func(k *groupKiosk, i int) {
		_, _, you, _, _ := k.view()
		kind, data := action(i)
		mu.Lock()
		sent[you] = append(sent[you], time.Now())
		mu.Unlock()
		if got := k.act(s.ID, kind, data); got != "" {
			b.Errorf("%s %s refused: %s", kind, data, got)
		}
	}
	b.ResetTimer()
	if together {
		var wg sync.WaitGroup
		next := make(chan int)
		for _, k := range ks {
			wg.Go(func() {
				for i := range next {
					send(k, i)
				}
			})
		}
		for i := range b.N {
			next <- i
		}
		close(next)
		wg.Wait()
	} else {
		for i := range b.N {
			k := ks[i%len(ks)]
			send(k, i)
			_, _, you, _, _ := k.view()
			key := fmt.Sprintf("%s %d", you, i/len(ks))
			for range 1000 { // until it is on every kiosk
				mu.Lock()
				n := len(arrived[key])
				mu.Unlock()
				if n >= len(ks) {
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	b.StopTimer()
	// Wait for the last steps to arrive everywhere.
	v, _ := e.engine.GroupTray(ctx, s.ID)
	for _, k := range ks {
		for range 500 {
			if seq, _, _, _, _ := k.view(); seq >= v.Seq {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := b.N * (len(ks) - 1); len(lat) < want {
		b.Fatalf("%d arrivals of %d actions, want %d", len(lat), b.N, want)
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(lat[len(lat)-1], "max-ms")
	b.ReportMetric(0, "ns/op")
}
