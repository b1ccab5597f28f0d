// Package xdf writes a session's physiology and markers as an XDF 1.0
// file (Extensible Data Format, the file format of Lab Streaming Layer,
// read by pyxdf, MNE, EEGLAB and libxdf), for research use.
//
// The format (https://github.com/sccn/xdf/wiki/Specifications): the magic
// "XDF:", then chunks, each [NumLengthBytes: 1, 4 or 8][Length, that many
// bytes, little-endian, counting the tag and the content][Tag: uint16]
// [content]. Tags: 1 FileHeader (XML), 2 StreamHeader (StreamID uint32 +
// XML), 3 Samples (StreamID, a variable-length count, then each sample: a
// timestamp byte 0 or 8, the timestamp as a double, the values), 4
// ClockOffset (StreamID, collection time, offset: doubles), 6 StreamFooter
// (StreamID + XML). Variable-length numbers are a byte 1, 4 or 8 and the
// number in that many bytes; strings are a variable-length byte count and
// the UTF-8 bytes.
package xdf

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Stream is one stream of the file: numeric (float32 or double64, one
// channel) or string markers.
type Stream struct {
	Name string
	Type string // such as "RR", "HeartRate", "Markers", "Coherence"
	// Rate is the nominal sampling rate in Hz; 0 for an irregular stream.
	Rate float64
	// Format is "double64", "float32" or "string".
	Format string
	// Unit and Label describe the one channel (empty for markers).
	Unit, Label string
	// Times are the samples' timestamps in seconds; Values or Strings hold
	// the samples, as Format says.
	Times   []float64
	Values  []float64
	Strings []string
}

func (s Stream) len() int {
	if s.Format == "string" {
		return len(s.Strings)
	}
	return len(s.Values)
}

// Write writes the streams as an XDF 1.0 file. Every sample carries its
// timestamp; every stream has one clock offset of zero (the times are the
// controller's clock) and a footer with its first and last time and count.
func Write(w io.Writer, streams []Stream) error {
	var b bytes.Buffer
	b.WriteString("XDF:")
	chunk(&b, 1, []byte(`<?xml version="1.0"?><info><version>1.0</version><origin>waystation</origin></info>`))
	for i, s := range streams {
		if len(s.Times) != s.len() {
			return fmt.Errorf("xdf: stream %q has %d times for %d samples", s.Name, len(s.Times), s.len())
		}
		if s.len() == 0 {
			// pyxdf reads a stream without samples; libxdf crashes on one.
			return fmt.Errorf("xdf: stream %q has no samples: leave it out (libxdf cannot load an empty stream)", s.Name)
		}
		switch s.Format {
		case "double64", "float32", "string":
		default:
			return fmt.Errorf("xdf: stream %q: format %q is not double64, float32 or string", s.Name, s.Format)
		}
		id := uint32(i + 1)
		chunk(&b, 2, append(u32(id), header(s)...))
	}
	for i, s := range streams {
		id := uint32(i + 1)
		const perChunk = 1000
		for from := 0; from < s.len(); from += perChunk {
			to := min(from+perChunk, s.len())
			var c bytes.Buffer
			c.Write(u32(id))
			varlen(&c, uint64(to-from))
			for k := from; k < to; k++ {
				c.WriteByte(8)
				c.Write(f64(s.Times[k]))
				switch s.Format {
				case "double64":
					c.Write(f64(s.Values[k]))
				case "float32":
					c.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(s.Values[k]))))
				case "string":
					varlen(&c, uint64(len(s.Strings[k])))
					c.WriteString(s.Strings[k])
				}
			}
			chunk(&b, 3, c.Bytes())
		}
	}
	for i, s := range streams {
		id := uint32(i + 1)
		at := 0.0
		if len(s.Times) > 0 {
			at = s.Times[len(s.Times)-1]
		}
		chunk(&b, 4, append(append(u32(id), f64(at)...), f64(0)...))
		chunk(&b, 6, append(u32(id), footer(s)...))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// chunk writes a chunk: its length (the tag and the content) as a
// variable-length number, the tag, the content.
func chunk(b *bytes.Buffer, tag uint16, content []byte) {
	varlen(b, uint64(len(content)+2))
	b.Write(binary.LittleEndian.AppendUint16(nil, tag))
	b.Write(content)
}

// varlen writes n as XDF's variable-length number: a byte 1, 4 or 8, then
// n in that many bytes.
func varlen(b *bytes.Buffer, n uint64) {
	switch {
	case n <= math.MaxUint8:
		b.WriteByte(1)
		b.WriteByte(byte(n))
	case n <= math.MaxUint32:
		b.WriteByte(4)
		b.Write(u32(uint32(n)))
	default:
		b.WriteByte(8)
		b.Write(binary.LittleEndian.AppendUint64(nil, n))
	}
}

func u32(v uint32) []byte  { return binary.LittleEndian.AppendUint32(nil, v) }
func f64(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func header(s Stream) []byte {
	desc := ""
	if s.Format != "string" {
		desc = `<desc><channels><channel><label>` + esc(s.Label) + `</label><unit>` + esc(s.Unit) + `</unit><type>` + esc(s.Type) + `</type></channel></channels></desc>`
	}
	return []byte(`<?xml version="1.0"?><info><name>` + esc(s.Name) + `</name><type>` + esc(s.Type) + `</type><channel_count>1</channel_count>` +
		`<nominal_srate>` + num(s.Rate) + `</nominal_srate><channel_format>` + s.Format + `</channel_format><source_id>waystation-` + esc(s.Name) +
		`</source_id><version>1.1</version><created_at>0</created_at>` + desc + `</info>`)
}

func footer(s Stream) []byte {
	first, last := 0.0, 0.0
	if len(s.Times) > 0 {
		first, last = s.Times[0], s.Times[len(s.Times)-1]
	}
	return []byte(`<?xml version="1.0"?><info><first_timestamp>` + num(first) + `</first_timestamp><last_timestamp>` + num(last) +
		`</last_timestamp><sample_count>` + strconv.Itoa(s.len()) + `</sample_count><clock_offsets><offset><time>` + num(last) +
		`</time><value>0</value></offset></clock_offsets></info>`)
}
