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
type speakerOut struct{}

var speakerOnce struct {
	sync.Mutex
	done bool
	err  error
}

// speakerProof is how long the sound card has to start pulling samples:
// with no working card beep's speaker initialises without error and then
// never pulls.
const speakerProof = time.Second

func openSpeaker(rate beep.SampleRate, src beep.Streamer) (Output, error) {
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
	return speakerOut{}, nil
}

func (speakerOut) Name() string { return "speaker" }
func (speakerOut) Close() error { speaker.Clear(); return nil }

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
