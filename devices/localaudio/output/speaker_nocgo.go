//go:build !cgo

package output

import (
	"errors"

	"github.com/gopxl/beep/v2"
)

// openSpeaker has no sound card to open: beep/speaker needs cgo (ALSA).
func openSpeaker(beep.SampleRate, beep.Streamer) (running, error) {
	return nil, errors.New("this controller was built without cgo, so it cannot drive a sound card (build with CGO_ENABLED=1 and libasound2-dev)")
}
