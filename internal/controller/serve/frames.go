package serve

import (
	"encoding/json"
	"time"

	"waystation/sessions"
	"waystation/sessions/hub"
)

// FramesTopic is the technicians' live view of one device's traffic.
func FramesTopic(deviceID string) string { return "frames/" + deviceID }

// maxShownFrame is the most of a frame's text the live view shows.
const maxShownFrame = 2048

// frameTap summarises a device's frames for whoever watches frames/ID:
// direction, size, type, kind or command name, and dseq or command id.
// Technicians see device traffic, not session content: the body of a
// frame that names a session, or that a device sends while it is a
// station of an active session, is left out ("redacted": true).
func frameTap(live *hub.Hub, engine *sessions.Engine) func(deviceID, dir string, frame []byte) {
	return func(deviceID, dir string, frame []byte) {
		topic := FramesTopic(deviceID)
		if live.Subscribers(topic) == 0 {
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
		_, inSession := engine.ActiveSession(deviceID)
		f := map[string]any{"type": "frame", "topic": topic, "device": deviceID, "dir": dir, "ts": time.Now().UTC(),
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
		case head.Session != "" || inSession:
			f["redacted"] = true
		case !valid:
			f["body"] = string(frame[:min(len(frame), maxShownFrame)])
			f["malformed"] = true
		default:
			f["body"] = string(frame[:min(len(frame), maxShownFrame)])
		}
		b, _ := json.Marshal(f)
		live.Broadcast(topic, b)
	}
}
