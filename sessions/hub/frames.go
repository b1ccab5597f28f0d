package hub

import (
	"context"
	"encoding/json"
	"time"

	"waystation/devices/registry"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
	"waystation/sessions/eventlog"
)

// The broadcast topics. A session's events are on SessionTopic, a room's
// devices and sessions on RoomTopic, one device's traffic on FramesTopic.
const (
	// AlertsTopic carries every alert's current state.
	AlertsTopic = "alerts"
	// DevicesTopic carries every device's status.
	DevicesTopic = "devices"
)

// FramesTopic is the technicians' live view of one device's traffic.
func FramesTopic(deviceID string) string { return "frames/" + deviceID }

// TypeTelemetry carries live readings on a session's topic, and TypeFrame
// a summary of one device frame on frames/ID.
const (
	TypeTelemetry = "telemetry"
	TypeFrame     = "frame"
)

// DeviceFrame is a device's status as topic (devices, or its room) sends it.
func DeviceFrame(topic string, d waystation.Device) []byte {
	b, _ := json.Marshal(map[string]any{"type": TypeDevice, "topic": topic, "device": d})
	return b
}

// SessionFrame is a session's state as its room's topic sends it.
func SessionFrame(s sessions.Session) []byte {
	b, _ := json.Marshal(map[string]any{"type": TypeSession, "topic": RoomTopic(s.RoomID), "session": s})
	return b
}

// AlertFrame is an alert's current state as the alerts topic sends it.
func AlertFrame(a sessions.Alert) []byte {
	b, _ := json.Marshal(map[string]any{"type": TypeAlert, "topic": AlertsTopic, "alert": a})
	return b
}

// TelemetryFrame is a live reading on a session's topic: not a stored
// event (readings live in the telemetry table), so it carries no seq.
func TelemetryFrame(stream, device string, readings []eventlog.Reading) []byte {
	b, _ := json.Marshal(map[string]any{"type": TypeTelemetry, "topic": SessionTopic(stream), "device": device,
		"ts": time.Now().UTC(), "values": sessions.LiveReadings(readings)})
	return b
}

// BroadcastDevice sends a device's status to the devices topic and to its
// room's.
func (h *Hub) BroadcastDevice(d waystation.Device) {
	h.Broadcast(DevicesTopic, DeviceFrame(DevicesTopic, d))
	room := RoomTopic(d.RoomID)
	h.Broadcast(room, DeviceFrame(room, d))
}

// BroadcastSession sends a session's state to its room's topic.
func (h *Hub) BroadcastSession(s sessions.Session) { h.Broadcast(RoomTopic(s.RoomID), SessionFrame(s)) }

// BroadcastAlert sends an alert's state to the alerts topic.
func (h *Hub) BroadcastAlert(a sessions.Alert) { h.Broadcast(AlertsTopic, AlertFrame(a)) }

// BroadcastTelemetry sends a device's live readings to the session's topic.
func (h *Hub) BroadcastTelemetry(stream, device string, readings []eventlog.Reading) {
	h.Broadcast(SessionTopic(stream), TelemetryFrame(stream, device, readings))
}

// Snapshots are the current state a console joining a broadcast topic is
// sent first (Console.Snapshots): every device's status for devices
// (through decorate, as GET /v1/devices gives them), every open alert for
// alerts, and for room/ID the room's devices and its sessions not yet
// ended or aborted.
func Snapshots(reg *registry.Registry, engine *sessions.Engine, decorate func(waystation.Device) waystation.Device) map[string]func(context.Context, string) ([][]byte, error) {
	return map[string]func(context.Context, string) ([][]byte, error){
		DevicesTopic: func(ctx context.Context, _ string) ([][]byte, error) {
			ds, err := reg.List(ctx)
			if err != nil {
				return nil, err
			}
			frames := make([][]byte, 0, len(ds))
			for _, d := range ds {
				frames = append(frames, DeviceFrame(DevicesTopic, decorate(d)))
			}
			return frames, nil
		},
		AlertsTopic: func(ctx context.Context, _ string) ([][]byte, error) {
			open, err := engine.OpenAlerts(ctx)
			if err != nil {
				return nil, err
			}
			frames := make([][]byte, 0, len(open))
			for _, a := range open {
				frames = append(frames, AlertFrame(a))
			}
			return frames, nil
		},
		"room": func(ctx context.Context, id string) ([][]byte, error) {
			room, err := reg.FindRoom(ctx, id)
			if err != nil {
				return nil, err
			}
			if room.ID != id {
				return nil, waystation.Errorf(waystation.ENOTFOUND, "room topics take the room's id: room/%s", room.ID)
			}
			ds, err := reg.List(ctx)
			if err != nil {
				return nil, err
			}
			ss, err := engine.InRoom(ctx, id)
			if err != nil {
				return nil, err
			}
			var frames [][]byte
			for _, d := range ds {
				if d.RoomID == id {
					frames = append(frames, DeviceFrame(RoomTopic(id), d))
				}
			}
			for _, s := range ss {
				frames = append(frames, SessionFrame(s))
			}
			return frames, nil
		},
	}
}

// maxShownFrame is the most of a frame's text the live view shows.
const maxShownFrame = 2048

// DeviceTap summarises a device's frames for whoever watches frames/ID:
// direction, size, type, kind or command name, and dseq or command id.
// Technicians see device traffic, not session content: the body of a
// frame that names a session, or that a device sends while it is a
// station of a session inSession reports, is left out ("redacted": true).
func (h *Hub) DeviceTap(inSession func(deviceID string) bool) func(deviceID, dir string, frame []byte) {
	return func(deviceID, dir string, frame []byte) {
		topic := FramesTopic(deviceID)
		if h.Subscribers(topic) == 0 {
			return
		}
		var head struct {
			Type    string `json:"type"`
			Kind    string `json:"kind"`
			Name    string `json:"name"`
			DSeq    int64  `json:"dseq"`
			ID      string `json:"id"`
			Session string `json:"session"`
		}
		valid := json.Unmarshal(frame, &head) == nil
		f := map[string]any{"type": TypeFrame, "topic": topic, "device": deviceID, "dir": dir, "ts": time.Now().UTC(),
			"bytes": len(frame), "frame_type": head.Type}
		for k, v := range map[string]any{"kind": head.Kind, "name": head.Name, "id": head.ID} {
			if v != "" {
				f[k] = v
			}
		}
		if head.DSeq != 0 {
			f["dseq"] = head.DSeq
		}
		switch {
		case head.Session != "" || inSession(deviceID):
			f["redacted"] = true
		case !valid:
			f["body"] = string(frame[:min(len(frame), maxShownFrame)])
			f["malformed"] = true
		default:
			f["body"] = string(frame[:min(len(frame), maxShownFrame)])
		}
		b, _ := json.Marshal(f)
		h.Broadcast(topic, b)
	}
}
