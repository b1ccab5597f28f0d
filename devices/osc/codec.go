// Package osc is the OSC 1.0 transport for devices: VR applications and
// other gear that speak Open Sound Control over UDP. The codec (this file)
// encodes and decodes messages and bundles; the adapter maps them to a
// device's profile: commands out, readings and events in.
//
// We carry our own codec rather than a library: the Go OSC libraries we
// looked at decode bundles wrongly (hypebeast/go-osc issue #53, open), and
// the format is small enough to decode strictly, with every error naming
// what is wrong and where, and to fuzz.
package osc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
)

// MaxPacket is the largest datagram the adapter reads.
const MaxPacket = 64 << 10

// maxDepth bounds bundle nesting.
const maxDepth = 8

// Message is one OSC message. Args hold int32, float32, string, []byte
// (blob), int64, float64, bool (T/F), nil (N) or Impulse (I).
type Message struct {
	Address string
	Args    []any
	// Time is the time tag of the bundle that carried it; zero when it came
	// alone or the tag said "immediately".
	Time time.Time
}

// Impulse is the value of the OSC "I" (infinitum / impulse) type.
type Impulse struct{}

// Error is a malformed packet: what is wrong and at which byte offset.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("osc: byte %d: %s", e.Offset, e.Msg) }

// ntpEpoch is 1900-01-01, where OSC time tags count from.
var ntpEpoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// immediately is the time tag that means "now".
const immediately = 1

// Decode parses one datagram: a message or a bundle (nested bundles
// included) and returns its messages in order.
func Decode(b []byte) ([]Message, error) {
	d := decoder{b: b}
	var out []Message
	if err := d.packet(0, len(b), time.Time{}, 0, &out); err != nil {
		return nil, err
	}
	return out, nil
}

type decoder struct{ b []byte }

func (d *decoder) fail(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// packet decodes b[off:end], a message or a bundle.
func (d *decoder) packet(off, end int, tag time.Time, depth int, out *[]Message) error {
	if end-off == 0 {
		return d.fail(off, "empty packet")
	}
	if (end-off)%4 != 0 {
		return d.fail(off, "packet size %d is not a multiple of 4", end-off)
	}
	switch d.b[off] {
	case '#':
		return d.bundle(off, end, depth, out)
	case '/':
		m, err := d.message(off, end)
		if err != nil {
			return err
		}
		m.Time = tag
		*out = append(*out, m)
		return nil
	default:
		return d.fail(off, "a packet starts with '/' (message) or '#bundle', not %q", d.b[off])
	}
}

func (d *decoder) bundle(off, end, depth int, out *[]Message) error {
	if depth >= maxDepth {
		return d.fail(off, "bundles nested deeper than %d", maxDepth)
	}
	name, p, err := d.str(off, end)
	if err != nil {
		return err
	}
	if name != "#bundle" {
		return d.fail(off, "%q is not \"#bundle\"", name)
	}
	if end-p < 8 {
		return d.fail(p, "bundle without its 8-byte time tag")
	}
	tag := timeOf(binary.BigEndian.Uint64(d.b[p:]))
	p += 8
	for p < end {
		if end-p < 4 {
			return d.fail(p, "bundle element size cut short")
		}
		n := int(int32(binary.BigEndian.Uint32(d.b[p:])))
		p += 4
		if n <= 0 || n > end-p {
			return d.fail(p-4, "bundle element size %d does not fit the %d bytes left", n, end-p)
		}
		if err := d.packet(p, p+n, tag, depth+1, out); err != nil {
			return err
		}
		p += n
	}
	return nil
}

func (d *decoder) message(off, end int) (Message, error) {
	addr, p, err := d.str(off, end)
	if err != nil {
		return Message{}, err
	}
	m := Message{Address: addr}
	if p == end {
		return m, d.fail(p, "message %s has no type tag string (OSC 1.0 requires one)", addr)
	}
	tags, p, err := d.str(p, end)
	if err != nil {
		return m, err
	}
	if !strings.HasPrefix(tags, ",") {
		return m, d.fail(p, "message %s: type tag string %q does not start with ','", addr, tags)
	}
	for i, t := range tags[1:] {
		need := 0
		switch t {
		case 'i', 'f':
			need = 4
		case 'h', 'd':
			need = 8
		}
		if end-p < need {
			return m, d.fail(p, "message %s: argument %d (%c) cut short", addr, i+1, t)
		}
		switch t {
		case 'i':
			m.Args = append(m.Args, int32(binary.BigEndian.Uint32(d.b[p:])))
		case 'f':
			m.Args = append(m.Args, math.Float32frombits(binary.BigEndian.Uint32(d.b[p:])))
		case 'h':
			m.Args = append(m.Args, int64(binary.BigEndian.Uint64(d.b[p:])))
		case 'd':
			m.Args = append(m.Args, math.Float64frombits(binary.BigEndian.Uint64(d.b[p:])))
		case 's', 'S':
			s, next, err := d.str(p, end)
			if err != nil {
				return m, err
			}
			m.Args = append(m.Args, s)
			p = next
		case 'b':
			if end-p < 4 {
				return m, d.fail(p, "message %s: blob size cut short", addr)
			}
			n := int(int32(binary.BigEndian.Uint32(d.b[p:])))
			if n < 0 || n > end-p-4 {
				return m, d.fail(p, "message %s: blob size %d does not fit the %d bytes left", addr, n, end-p-4)
			}
			m.Args = append(m.Args, bytes.Clone(d.b[p+4:p+4+n]))
			p += 4 + pad(n)
			if p > end {
				return m, d.fail(end, "message %s: blob padding cut short", addr)
			}
		case 'T':
			m.Args = append(m.Args, true)
		case 'F':
			m.Args = append(m.Args, false)
		case 'N':
			m.Args = append(m.Args, nil)
		case 'I':
			m.Args = append(m.Args, Impulse{})
		default:
			return m, d.fail(p, "message %s: unsupported type tag %q", addr, t)
		}
		p += need
	}
	if p != end {
		return m, d.fail(p, "message %s: %d bytes left over after its arguments", addr, end-p)
	}
	return m, nil
}

// str reads a NUL-terminated string padded to 4 bytes at off and returns
// it with the offset after its padding.
func (d *decoder) str(off, end int) (string, int, error) {
	i := bytes.IndexByte(d.b[off:end], 0)
	if i < 0 {
		return "", 0, d.fail(off, "string without its terminating NUL")
	}
	next := off + pad(i+1)
	if next > end {
		return "", 0, d.fail(off, "string padding runs past the packet")
	}
	for _, c := range d.b[off+i : next] {
		if c != 0 {
			return "", 0, d.fail(off, "string padding is not NUL bytes")
		}
	}
	return string(d.b[off : off+i]), next, nil
}

// pad rounds n up to a multiple of 4.
func pad(n int) int { return (n + 3) &^ 3 }

// timeOf converts an NTP time tag; "immediately" is the zero time.
func timeOf(tag uint64) time.Time {
	if tag == immediately {
		return time.Time{}
	}
	secs := tag >> 32
	frac := tag & 0xffffffff
	return ntpEpoch.Add(time.Duration(secs)*time.Second + time.Duration(frac*uint64(time.Second)>>32)).UTC()
}

// tagOf converts a time to an NTP time tag; the zero time is "immediately".
func tagOf(t time.Time) uint64 {
	if t.IsZero() {
		return immediately
	}
	d := t.Sub(ntpEpoch)
	secs := uint64(d / time.Second)
	frac := (uint64(d%time.Second) << 32) / uint64(time.Second)
	return secs<<32 | frac
}

// Encode returns a message as a datagram. Args may be int32, int (sent as
// int32), float32, float64 (sent as float32), string, []byte, int64, bool,
// nil or Impulse.
func Encode(m Message) ([]byte, error) {
	if !strings.HasPrefix(m.Address, "/") {
		return nil, fmt.Errorf("osc: address %q does not start with '/'", m.Address)
	}
	var buf bytes.Buffer
	putStr(&buf, m.Address)
	tags := []byte{','}
	var data bytes.Buffer
	for i, a := range m.Args {
		switch v := a.(type) {
		case int32:
			tags = append(tags, 'i')
			binary.Write(&data, binary.BigEndian, v)
		case int:
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, fmt.Errorf("osc: %s argument %d: %d does not fit int32", m.Address, i+1, v)
			}
			tags = append(tags, 'i')
			binary.Write(&data, binary.BigEndian, int32(v))
		case float32:
			tags = append(tags, 'f')
			binary.Write(&data, binary.BigEndian, math.Float32bits(v))
		case float64:
			tags = append(tags, 'f')
			binary.Write(&data, binary.BigEndian, math.Float32bits(float32(v)))
		case int64:
			tags = append(tags, 'h')
			binary.Write(&data, binary.BigEndian, v)
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				return nil, fmt.Errorf("osc: %s argument %d: a string may not hold NUL", m.Address, i+1)
			}
			tags = append(tags, 's')
			putStr(&data, v)
		case []byte:
			tags = append(tags, 'b')
			binary.Write(&data, binary.BigEndian, int32(len(v)))
			data.Write(v)
			data.Write(make([]byte, pad(len(v))-len(v)))
		case bool:
			tags = append(tags, map[bool]byte{true: 'T', false: 'F'}[v])
		case nil:
			tags = append(tags, 'N')
		case Impulse:
			tags = append(tags, 'I')
		default:
			return nil, fmt.Errorf("osc: %s argument %d: cannot send a %T", m.Address, i+1, a)
		}
	}
	putStr(&buf, string(tags))
	buf.Write(data.Bytes())
	return buf.Bytes(), nil
}

// EncodeBundle returns messages as one bundle with time tag t (zero:
// immediately).
func EncodeBundle(t time.Time, ms ...Message) ([]byte, error) {
	var buf bytes.Buffer
	putStr(&buf, "#bundle")
	binary.Write(&buf, binary.BigEndian, tagOf(t))
	for _, m := range ms {
		b, err := Encode(m)
		if err != nil {
			return nil, err
		}
		binary.Write(&buf, binary.BigEndian, int32(len(b)))
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// putStr writes an OSC string: the bytes, a NUL, padding to 4.
func putStr(buf *bytes.Buffer, s string) {
	buf.WriteString(s)
	buf.Write(make([]byte, pad(len(s)+1)-len(s)))
}
