// Package waystation holds the domain types shared by every part of the
// controller: errors with codes, rooms, devices and events. It depends on
// nothing else in the project, so every package can import it.
package waystation

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"strings"
	"time"
)

// Version is the controller's version, reported by GET /v1/version and
// `waystation version`. Release builds override it with -ldflags.
var Version = "0.1.0-dev"

// Room is a place on the site that holds devices: a relaxation room, a VR
// station, a sandtray corner.
type Room struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// DeviceStatus is whether a device is connected to the controller now.
type DeviceStatus string

// The device statuses.
const (
	DeviceOnline  DeviceStatus = "online"
	DeviceOffline DeviceStatus = "offline"
)

// Device is a registered device: a kiosk, a VR headset, a sensor, the room
// speakers. Its token is never stored, only TokenHash.
type Device struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	RoomID     string       `json:"room_id"`
	Room       string       `json:"room"`
	ProfileID  string       `json:"profile"`
	Address    string       `json:"address,omitempty"`
	Created    time.Time    `json:"created"`
	Status     DeviceStatus `json:"status"`
	LastSeen   *time.Time   `json:"last_seen,omitempty"`
	Firmware   string       `json:"firmware,omitempty"`
	FirmwareOK *bool        `json:"firmware_ok,omitempty"`
	// ProfileMissing is set when the device's profile is no longer loaded.
	ProfileMissing bool `json:"profile_missing,omitempty"`
	// HeartbeatMisses counts the times it went silent past its heartbeat
	// timeout since the controller started; Battery is its last battery
	// reading (percent), when it reports one.
	HeartbeatMisses int      `json:"heartbeat_misses,omitempty"`
	Battery         *float64 `json:"battery,omitempty"`
	// FirmwareNote says why the reported firmware is out of range, if it is.
	FirmwareNote string `json:"firmware_note,omitempty"`
}

// Event is one entry of an append-only event stream. A stream is a session
// ("s-…") or a device's own log ("d-…") for events sent outside a session.
// Seq is gapless within a stream and assigned by the controller.
type Event struct {
	Stream string          `json:"-"`
	Seq    int64           `json:"seq"`
	TS     time.Time       `json:"ts"`
	Source string          `json:"source"`
	Kind   string          `json:"kind"`
	Data   json.RawMessage `json:"data,omitempty"`
	// DeviceTS is the time the device stamped on the event, kept beside the
	// controller's own time because device clocks jump (RELIABILITY F9).
	DeviceTS *time.Time `json:"device_ts,omitempty"`
}

// NewID returns a random identifier with the given prefix, such as "d-"
// for a device or "u-" for a user: 40 random bits in lower-case base32.
func NewID(prefix string) string {
	b := make([]byte, 5)
	rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
