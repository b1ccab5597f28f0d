//go:build cgo

package output

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/speaker"
)

// speakerOut is the sound card. beep/speaker is process-wide and can be
// initialised once.
type speakerOut struct {
	c    *counting
	fail chan error
	quit chan struct{}
	once sync.Once
	done chan struct{}
}

// speakerStall is how long the sound card may take no samples before it
// counts as lost (unplugged, or its server gone). Time a suspended machine
// sleeps does not count: the monotonic clock stops with it.
const speakerStall = 2 * time.Second

var speakerOnce struct {
	sync.Mutex
	done bool
	err  error
}

// speakerProof is how long the sound card has to start pulling samples:
// with no working card beep's speaker initialises without error and then
// never pulls.
const speakerProof = time.Second

func openSpeaker(rate beep.SampleRate, src beep.Streamer) (running, error) {
	speakerOnce.Lock()
	defer speakerOnce.Unlock()
	if !speakerOnce.done {
		speakerOnce.done = true
		speakerOnce.err = speaker.Init(rate, rate.N(100*time.Millisecond))
	}
	if speakerOnce.err != nil {
		return nil, speakerOnce.err
	}
	c := &counting{s: src}
	speaker.Play(c)
	for start := time.Now(); c.n.Load() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > speakerProof {
			speaker.Clear()
			return nil, fmt.Errorf("the sound device took no samples in %v", speakerProof)
		}
	}
	o := &speakerOut{c: c, fail: make(chan error, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go o.watch()
	return o, nil
}

// watch reports the card lost once it takes no samples for speakerStall.
func (o *speakerOut) watch() {
	defer close(o.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	last, since := o.c.n.Load(), time.Now()
	for {
		select {
		case <-o.quit:
			return
		case <-t.C:
		}
		if n := o.c.n.Load(); n != last {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) > speakerStall {
			speaker.Clear()
			o.fail <- fmt.Errorf("the sound device took no samples for %v", speakerStall)
			return
		}
	}
}

func (o *speakerOut) failed() <-chan error { return o.fail }
func (o *speakerOut) Name() string         { return "speaker" }
func (o *speakerOut) Close() error {
	o.once.Do(func() { close(o.quit) })
	<-o.done
	speaker.Clear()
	return nil
}

// counting passes a stream through, counting what is pulled.
type counting struct {
	s beep.Streamer
	n atomic.Int64
}

func (c *counting) Stream(samples [][2]float64) (int, bool) {
	n, ok := c.s.Stream(samples)
	c.n.Add(int64(n))
	return n, ok
}

func (c *counting) Err() error { return c.s.Err() }
