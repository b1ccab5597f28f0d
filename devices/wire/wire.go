// Package wire is the device websocket protocol: one JSON object per text
// frame. Frames from devices are decoded strictly, so a mistake in a device's
// firmware is reported to it by name instead of being half-understood.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode"

	"waystation/internal/platform/jsonerr"
)

// MaxFrame is the largest frame a device may send.
const MaxFrame = 64 << 10

// Frame types from devices.
const (
	TypeHello     = "hello"
	TypeEvent     = "event"
	TypeTelemetry = "telemetry"
	TypeAck       = "ack"
)

// Frame types from the controller.
const (
	TypeWelcome = "welcome"
	TypeCommand = "command"
	TypeStored  = "stored"
	TypeError   = "error"
)

// Hello is a device's first frame.
type Hello struct {
	Type     string `json:"type"`
	Firmware string `json:"firmware"`
	// LastAcked is the highest dseq the device has seen `stored` for.
	LastAcked int64 `json:"last_acked"`
}

// Event is something that happened on a device, numbered by the device.
type Event struct {
	Type    string          `json:"type"`
	DSeq    int64           `json:"dseq"`
	Session string          `json:"session,omitempty"`
	TS      *time.Time      `json:"ts,omitempty"`
	Kind    string          `json:"kind"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Telemetry is a set of readings taken at one time.
type Telemetry struct {
	Type   string             `json:"type"`
	TS     *time.Time         `json:"ts,omitempty"`
	Values map[string]float64 `json:"values"`
}

// Ack answers a command.
type Ack struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	OK    *bool  `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Inbound is one decoded frame from a device: Type says which field is set.
type Inbound struct {
	Type      string
	Hello     *Hello
	Event     *Event
	Telemetry *Telemetry
	Ack       *Ack
}

// Welcome answers a hello.
type Welcome struct {
	Type        string `json:"type"`
	Device      string `json:"device"`
	Name        string `json:"name"`
	Room        string `json:"room"`
	Profile     string `json:"profile"`
	HeartbeatMS int64  `json:"heartbeat_ms"`
	FirmwareOK  bool   `json:"firmware_ok"`
	Note        string `json:"note,omitempty"`
	// LastDSeq is the highest dseq the controller has stored for the
	// device; anything the device holds above it must be resent.
	LastDSeq int64 `json:"last_dseq"`
	// PINHash is the bcrypt hash of the technician's PIN set when the
	// device was registered (kiosks: it opens their settings page).
	PINHash string `json:"pin_hash,omitempty"`
}

// Command asks a device to do something; the device answers with an Ack.
type Command struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Session string          `json:"session,omitempty"`
	Name    string          `json:"name"`
	Args    json.RawMessage `json:"args"`
}

// Stored tells a device that its event is on disk.
type Stored struct {
	Type string `json:"type"`
	DSeq int64  `json:"dseq"`
}

// Error reports a refused frame. When DSeq is set the refusal is final for
// that event: the device must not resend it.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	DSeq    int64  `json:"dseq,omitempty"`
	ID      string `json:"id,omitempty"`
}

// DecodeError is a frame refused by Decode. DSeq or ID name the event or ack
// it was, when that much could be read.
type DecodeError struct {
	Msg  string
	DSeq int64
	ID   string
}

func (e *DecodeError) Error() string { return e.Msg }

var (
	// KindRE is the shape of an event kind: dotted lower-case words.
	KindRE    = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	sessionRE = regexp.MustCompile(`^s-[a-z0-9]{1,32}$`)
	readingRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// Decode decodes one frame from a device. The result does not refer to b,
// so the caller may reuse it for the next frame.
func Decode(b []byte) (Inbound, error) {
	if len(b) > MaxFrame {
		return Inbound{}, &DecodeError{Msg: fmt.Sprintf("frame of %d bytes is over the %d-byte limit", len(b), MaxFrame)}
	}
	var head struct {
		Type string          `json:"type"`
		DSeq json.RawMessage `json:"dseq"`
		ID   json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Inbound{}, &DecodeError{Msg: jsonMessage(err)}
	}
	// Read what identifies the frame first, so an error can name it.
	var derr DecodeError
	json.Unmarshal(head.DSeq, &derr.DSeq)
	json.Unmarshal(head.ID, &derr.ID)
	fail := func(format string, args ...any) (Inbound, error) {
		derr.Msg = head.Type + ": " + fmt.Sprintf(format, args...)
		return Inbound{}, &derr
	}
	in := Inbound{Type: head.Type}
	var target any
	switch head.Type {
	case TypeHello:
		in.Hello = &Hello{}
		target = in.Hello
	case TypeEvent:
		in.Event = &Event{}
		target = in.Event
	case TypeTelemetry:
		in.Telemetry = &Telemetry{}
		target = in.Telemetry
	case TypeAck:
		in.Ack = &Ack{}
		target = in.Ack
	case "":
		return Inbound{}, &DecodeError{Msg: `frame has no "type" (one of hello, event, telemetry, ack)`}
	default:
		return Inbound{}, &DecodeError{Msg: fmt.Sprintf("unknown frame type %q (one of hello, event, telemetry, ack)", head.Type)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return fail("%s", jsonMessage(err))
	}
	switch {
	case in.Hello != nil:
		h := in.Hello
		if h.Firmware == "" || len(h.Firmware) > 64 || strings.IndexFunc(h.Firmware, unicode.IsSpace) >= 0 {
			return fail("firmware must be a version such as 1.3.0, got %q", h.Firmware)
		}
		if h.LastAcked < 0 {
			return fail("last_acked must not be negative")
		}
	case in.Event != nil:
		e := in.Event
		if e.DSeq < 1 {
			return fail("dseq must be a number from 1 up, got %d", e.DSeq)
		}
		if !KindRE.MatchString(e.Kind) || len(e.Kind) > 64 {
			return fail("kind %q is not an event kind (dotted lower-case words such as sandtray.place)", e.Kind)
		}
		if e.Session != "" && !sessionRE.MatchString(e.Session) {
			return fail("session %q is not a session id", e.Session)
		}
		if d := bytes.TrimSpace(e.Data); len(d) > 0 && (d[0] != '{' && !bytes.Equal(d, []byte("null"))) {
			return fail("data must be a JSON object")
		}
		if bytes.Equal(bytes.TrimSpace(e.Data), []byte("null")) {
			e.Data = nil
		}
	case in.Telemetry != nil:
		t := in.Telemetry
		if len(t.Values) == 0 {
			return fail("values is empty; send at least one reading such as {\"heart_rate\":72}")
		}
		if len(t.Values) > 32 {
			return fail("%d readings in one frame, at most 32", len(t.Values))
		}
		for k, v := range t.Values {
			if !readingRE.MatchString(k) {
				return fail("%q is not a reading name", k)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fail("reading %s is not a finite number", k)
			}
		}
	case in.Ack != nil:
		a := in.Ack
		if a.ID == "" || len(a.ID) > 64 {
			return fail("id must name the command being answered")
		}
		if a.OK == nil {
			return fail(`ok is required: true, or false with an "error"`)
		}
		if len(a.Error) > 1000 {
			return fail("error is longer than 1000 bytes")
		}
	}
	return in, nil
}

// jsonMessage says what is wrong with a frame's JSON in words (package
// jsonerr), with the frame's own wording for a truncated frame, a frame
// that is not an object, and a bad time stamp.
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "empty or truncated frame"
	case errors.As(err, &pe):
		return "field ts: " + jsonerr.Message(err)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("a frame must be a JSON object, got %s", te.Value)
	}
	return jsonerr.Message(err)
}
