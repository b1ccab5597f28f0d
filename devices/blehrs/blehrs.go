// Package blehrs reads the Bluetooth LE Heart Rate Service (0x180D): the
// Heart Rate Measurement characteristic (0x2A37) that chest straps such as
// the Polar H10 notify about once a second.
//
// A notification is: a flags byte (bit 0: the rate is a uint16, else a
// uint8; bit 2: sensor contact is supported, bit 1: contact is detected;
// bit 3: energy expended, a uint16 in kJ, follows; bit 4: RR intervals
// follow), the rate, the energy if flagged, then every RR interval since
// the last notification as a uint16 in 1/1024 s (often two or three), all
// little-endian (Bluetooth SIG, Heart Rate Service 1.0).
package blehrs

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Service and characteristic UUIDs (16-bit, in the Bluetooth base UUID).
const (
	ServiceUUID     = 0x180D
	MeasurementUUID = 0x2A37
	BatteryService  = 0x180F
	BatteryLevel    = 0x2A19
)

// Flag bits of the first byte.
const (
	flagUint16   = 1 << 0
	flagDetected = 1 << 1
	flagContact  = 1 << 2
	flagEnergy   = 1 << 3
	flagRR       = 1 << 4
)

// Measurement is one notification, decoded.
type Measurement struct {
	BPM int `json:"bpm"`
	// Contact is whether the sensor touches the skin; nil when the strap
	// does not say.
	Contact *bool `json:"contact"`
	// EnergyKJ is the energy expended since the last reset, when sent.
	EnergyKJ *int `json:"energy_kj,omitempty"`
	// RR are the beat-to-beat intervals in ms, oldest first: every one
	// kept, however many the notification carries.
	RR []float64 `json:"rr_ms"`
}

// MaxRR is the number of RR intervals a notification can carry: the
// default ATT payload is 20 bytes, less the flags and a uint8 rate, is 9;
// a longer MTU allows more, so the bound is what 512 bytes could hold.
const MaxRR = 255

// Decode reads a notification's value, refusing one that is cut short or
// has a stray byte, with what is wrong.
func Decode(b []byte) (Measurement, error) {
	var m Measurement
	if len(b) == 0 {
		return m, fmt.Errorf("heart rate measurement: empty")
	}
	flags, rest := b[0], b[1:]
	if flags&flagUint16 != 0 {
		if len(rest) < 2 {
			return m, fmt.Errorf("heart rate measurement: flags %#02x say a 2-byte rate; %d byte(s) follow", flags, len(rest))
		}
		m.BPM, rest = int(binary.LittleEndian.Uint16(rest)), rest[2:]
	} else {
		if len(rest) < 1 {
			return m, fmt.Errorf("heart rate measurement: no rate after the flags")
		}
		m.BPM, rest = int(rest[0]), rest[1:]
	}
	if flags&flagContact != 0 {
		c := flags&flagDetected != 0
		m.Contact = &c
	}
	if flags&flagEnergy != 0 {
		if len(rest) < 2 {
			return m, fmt.Errorf("heart rate measurement: flags %#02x say energy expended follows; %d byte(s) left", flags, len(rest))
		}
		e := int(binary.LittleEndian.Uint16(rest))
		m.EnergyKJ, rest = &e, rest[2:]
	}
	if flags&flagRR == 0 {
		if len(rest) > 0 {
			return m, fmt.Errorf("heart rate measurement: %d byte(s) after the last field the flags %#02x announce", len(rest), flags)
		}
		return m, nil
	}
	if len(rest)%2 != 0 {
		return m, fmt.Errorf("heart rate measurement: RR intervals are 2 bytes each; %d byte(s) left", len(rest))
	}
	if len(rest)/2 > MaxRR {
		return m, fmt.Errorf("heart rate measurement: %d RR intervals; at most %d", len(rest)/2, MaxRR)
	}
	m.RR = make([]float64, 0, len(rest)/2)
	for ; len(rest) > 0; rest = rest[2:] {
		m.RR = append(m.RR, float64(binary.LittleEndian.Uint16(rest))*1000/1024)
	}
	return m, nil
}

// ParseHex reads bytes written in hex, with or without spaces, colons or
// dashes between them ("16 38 37 04 07 03", "16:38:37", "163837").
func ParseHex(s string) ([]byte, error) {
	clean := strings.NewReplacer(" ", "", ":", "", "-", "", "\t", "").Replace(strings.TrimSpace(s))
	clean = strings.TrimPrefix(strings.TrimPrefix(clean, "0x"), "0X")
	b, err := hex.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("not hex bytes (%q): %w", s, err)
	}
	return b, nil
}
