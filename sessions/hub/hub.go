// Package hub pushes live events to counsellors' consoles over websockets.
// A console subscribes to a topic after a seq; the hub replays what the
// store holds after it, says "live", and then forwards each event as it is
// committed, so a console that reconnects with its last seq misses nothing
// and sees nothing twice. A console that falls behind is disconnected,
// never silently skipped, and never slows the event log or other consoles.
package hub

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"waystation"
)

// Frame types the hub sends.
const (
	TypeEvent  = "event"
	TypeLive   = "live"
	TypeResult = "result"
	TypeError  = "error"
	TypeAlert  = "alert"
	TypeDevice = "device"
	// TypeSession carries a session's state on a room/ID topic.
	TypeSession = "session"
)

// EventFrame is an event as consoles receive it.
type EventFrame struct {
	Type   string          `json:"type"`
	Topic  string          `json:"topic"`
	Seq    int64           `json:"seq"`
	TS     time.Time       `json:"ts"`
	Source string          `json:"source"`
	Kind   string          `json:"kind"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// SessionTopic is the topic of a session's events.
func SessionTopic(id string) string { return "session/" + id }

// RoomTopic is the topic of a room: its devices' status and its sessions'
// states.
func RoomTopic(id string) string { return "room/" + id }

// Reader reads stored events; the event log implements it.
type Reader interface {
	Read(ctx context.Context, stream string, after int64, limit int) ([]waystation.Event, error)
}

// Hub fans committed events out to subscribers.
type Hub struct {
	reader Reader

	mu     sync.Mutex
	topics map[string]map[*Sub]bool
}

// New returns a hub that replays from reader.
func New(reader Reader) *Hub {
	return &Hub{reader: reader, topics: map[string]map[*Sub]bool{}}
}

// Sink receives a subscriber's frames. Offer must not block: it queues all
// of the frames or none, and returns false when the subscriber cannot keep
// up, and the hub drops it. A frame may be shared by every subscriber of its
// topic: a sink must not change it, nor keep the slice that holds them.
type Sink interface {
	Offer(frames ...[]byte) bool
	// Put may block while the subscriber's queue is full; the replay uses it
	// so a long history reaches a slow reader whole. It fails once ctx ends.
	Put(ctx context.Context, frame []byte) error
	// Drop ends the subscriber's connection because it fell behind.
	Drop(reason string)
}

// MaxBuffered bounds the live events held for a subscriber while its replay
// runs; one that needs more is too far behind and is dropped.
const MaxBuffered = 10000

// Sub is one subscription of one console to one topic.
type Sub struct {
	hub    *Hub
	topic  string
	stream string
	sink   Sink

	// guarded by hub.mu
	replaying      bool
	buffered       []waystation.Event
	bufferedFrames [][]byte // broadcasts that came during a replay
	lastSeq        int64
	closed         bool
}

// Publish implements the event log's Publisher. It runs on the event log's
// writer goroutine and never blocks.
func (h *Hub) Publish(events []waystation.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// The batch's events by topic, in order, each with its frame.
	type item struct {
		ev    waystation.Event
		frame []byte
	}
	var order []string
	byTopic := map[string][]item{}
	for _, ev := range events {
		topic := topicOf(ev.Stream)
		if len(h.topics[topic]) == 0 {
			continue
		}
		if byTopic[topic] == nil {
			order = append(order, topic)
		}
		// One encoding per event, shared by every subscriber: with 50
		// consoles on a busy site, encoding per subscriber was a fifth of
		// the controller's CPU, spent on the event log's writer.
		byTopic[topic] = append(byTopic[topic], item{ev, encode(topic, ev)})
	}
	// Each sink (a console, with one subscription per topic) is offered
	// all of its frames of this batch at once, so its write pump wakes once
	// and sends them in one write to its socket.
	var sinks []Sink
	bySink := map[Sink][]*Sub{}
	for _, topic := range order {
		for sub := range h.topics[topic] {
			if bySink[sub.sink] == nil {
				sinks = append(sinks, sub.sink)
			}
			bySink[sub.sink] = append(bySink[sub.sink], sub)
		}
	}
	var frames [][]byte
	for _, sink := range sinks {
		frames = frames[:0]
		subs := bySink[sink]
		for _, sub := range subs {
			for _, it := range byTopic[sub.topic] {
				if sub.take(it.ev) {
					frames = append(frames, it.frame)
				}
			}
		}
		if len(frames) > 0 && !sink.Offer(frames...) {
			for _, sub := range subs {
				sub.closeLocked()
			}
			go sink.Drop("fell behind; reconnect with your last seq")
		}
	}
}

// topicOf maps a stream to its topic: sessions are "session/ID", a device's
// own log "device/ID".
func topicOf(stream string) string {
	if strings.HasPrefix(stream, "d-") {
		return "device/" + stream
	}
	return "session/" + stream
}

// take decides whether a committed event goes to the subscriber now: not
// if it is closed or already has it; while its replay runs, the event is
// held for after it. Callers hold hub.mu.
func (s *Sub) take(ev waystation.Event) bool {
	switch {
	case s.closed:
		return false
	case s.replaying:
		if len(s.buffered) >= MaxBuffered {
			s.dropLocked("fell behind during replay")
			return false
		}
		s.buffered = append(s.buffered, ev)
		return false
	case ev.Seq <= s.lastSeq:
		return false
	}
	s.lastSeq = ev.Seq
	return true
}

// closeLocked ends the subscription; callers hold hub.mu.
func (s *Sub) closeLocked() {
	s.closed = true
	delete(s.hub.topics[s.topic], s)
}

// dropLocked ends the subscription and its sink's connection, which fell
// behind; callers hold hub.mu.
func (s *Sub) dropLocked(reason string) {
	s.closeLocked()
	go s.sink.Drop(reason) // Drop may take locks of its own; never under hub.mu
}

func encode(topic string, ev waystation.Event) []byte {
	b, _ := json.Marshal(EventFrame{Type: TypeEvent, Topic: topic, Seq: ev.Seq, TS: ev.TS, Source: ev.Source, Kind: ev.Kind, Data: ev.Data})
	return b
}

// ReplayPage is how many events one store read of a replay takes.
const ReplayPage = 1000

// Subscribe replays a stream's events after seq `after` into sink, sends
// {"type":"live"}, and keeps forwarding committed events until Cancel. It
// returns once the replay is done (or failed).
func (h *Hub) Subscribe(ctx context.Context, topic, stream string, after int64, sink Sink) (*Sub, error) {
	s := &Sub{hub: h, topic: topic, stream: stream, sink: sink, replaying: true, lastSeq: after}
	h.mu.Lock()
	if h.topics[topic] == nil {
		h.topics[topic] = map[*Sub]bool{}
	}
	h.topics[topic][s] = true
	h.mu.Unlock()

	// Everything committed before the registration above is in the store;
	// everything after it is buffered. The overlap is dropped by seq.
	last := after
	for {
		evs, err := h.reader.Read(ctx, stream, last, ReplayPage)
		if err != nil {
			s.Cancel()
			return nil, err
		}
		for _, ev := range evs {
			if err := sink.Put(ctx, encode(topic, ev)); err != nil {
				s.Cancel()
				return nil, err
			}
			last = ev.Seq
		}
		if len(evs) < ReplayPage {
			break
		}
	}
	live, _ := json.Marshal(map[string]string{"type": TypeLive, "topic": topic})
	if err := sink.Put(ctx, live); err != nil {
		s.Cancel()
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return nil, waystation.Errorf(waystation.EUNAVAILABLE, "subscription to %s dropped during replay", topic)
	}
	s.replaying = false
	s.lastSeq = last
	var frames [][]byte
	for _, ev := range s.buffered {
		if s.take(ev) {
			frames = append(frames, encode(topic, ev))
		}
	}
	s.buffered = nil
	if len(frames) > 0 && !sink.Offer(frames...) {
		s.dropLocked("fell behind; reconnect with your last seq")
	}
	return s, nil
}

// Cancel ends the subscription.
func (s *Sub) Cancel() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.closeLocked()
	if len(s.hub.topics[s.topic]) == 0 {
		delete(s.hub.topics, s.topic)
	}
}

// Broadcast sends a frame that is not a stored event (an alert's state, a
// device's status) to every subscriber of topic, dropping those that cannot
// take it. Such frames carry the whole current state of what they describe,
// so a later one supersedes an earlier one.
func (h *Hub) Broadcast(topic string, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.topics[topic] {
		switch {
		case sub.closed:
		case sub.replaying:
			if len(sub.bufferedFrames) >= MaxBuffered {
				sub.dropLocked("fell behind during replay")
				continue
			}
			sub.bufferedFrames = append(sub.bufferedFrames, frame)
		case !sub.sink.Offer(frame):
			sub.dropLocked("fell behind; reconnect")
		}
	}
}

// Join subscribes sink to a topic of broadcasts (alerts, devices): it sends
// the frames snapshot returns (the current state), then {"type":"live"},
// then every broadcast. Broadcasts made while the snapshot is taken are held
// and sent after it, so none is lost and none is overtaken by older state.
func (h *Hub) Join(ctx context.Context, topic string, sink Sink, snapshot func(context.Context) ([][]byte, error)) (*Sub, error) {
	s := &Sub{hub: h, topic: topic, sink: sink, replaying: true}
	h.mu.Lock()
	if h.topics[topic] == nil {
		h.topics[topic] = map[*Sub]bool{}
	}
	h.topics[topic][s] = true
	h.mu.Unlock()
	frames, err := snapshot(ctx)
	if err != nil {
		s.Cancel()
		return nil, err
	}
	live, _ := json.Marshal(map[string]string{"type": TypeLive, "topic": topic})
	for _, f := range append(frames, live) {
		if err := sink.Put(ctx, f); err != nil {
			s.Cancel()
			return nil, err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return nil, waystation.Errorf(waystation.EUNAVAILABLE, "subscription to %s dropped while joining", topic)
	}
	s.replaying = false
	for _, f := range s.bufferedFrames {
		if !sink.Offer(f) {
			s.dropLocked("fell behind; reconnect")
			break
		}
	}
	s.bufferedFrames = nil
	return s, nil
}

// Subscribers returns how many subscriptions a topic has.
func (h *Hub) Subscribers(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.topics[topic])
}
