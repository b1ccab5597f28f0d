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

	"waystation/internal/platform/waystation"
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
	pub    publishing
}

// New returns a hub that replays from reader.
func New(reader Reader) *Hub {
	return &Hub{reader: reader, topics: map[string]map[*Sub]bool{},
		pub: publishing{byTopic: map[string]*topicItems{}, bySink: map[Sink]*sinkSubs{}}}
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
	// Drop ends the subscriber's connection because it fell behind. It is
	// called with the hub's lock held and must not block (a console's
	// only asks its write pump to close).
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
	p := &h.pub
	defer p.reset()
	// The batch's events by topic, in order, each with its frame.
	for _, ev := range events {
		topic := topicOf(ev.Stream)
		if len(h.topics[topic]) == 0 {
			continue
		}
		// One encoding per event, shared by every subscriber: with 50
		// consoles on a busy site, encoding per subscriber was a fifth of
		// the controller's CPU, spent on the event log's writer.
		t := p.topic(topic)
		t.items = append(t.items, item{ev, encode(topic, ev)})
	}
	// Each sink (a console, with one subscription per topic) is offered
	// all of its frames of this batch at once, so its write pump wakes once
	// and sends them in one write to its socket.
	for _, t := range p.topics {
		for sub := range h.topics[t.name] {
			to, withdrawn := target(sub.sink)
			if withdrawn {
				continue // unsubscribed; its Cancel is on its way
			}
			g := p.sink(to)
			g.subs = append(g.subs, sub)
		}
	}
	for _, g := range p.sinks {
		p.frames = p.frames[:0]
		for _, sub := range g.subs {
			for _, it := range p.byTopic[sub.topic].items {
				if sub.take(it.ev) {
					p.frames = append(p.frames, it.frame)
				}
			}
		}
		if len(p.frames) > 0 && !g.sink.Offer(p.frames...) {
			for _, sub := range g.subs {
				sub.closeLocked()
			}
			g.sink.Drop("fell behind; reconnect with your last seq")
		}
	}
}

// publishing is Publish's working memory, kept between commits so that a
// commit allocates little more than its frames. Guarded by Hub.mu.
type publishing struct {
	topics  []*topicItems // in the order of the batch
	byTopic map[string]*topicItems
	sinks   []*sinkSubs // in the order first seen
	bySink  map[Sink]*sinkSubs
	frames  [][]byte
	// Spares from earlier commits, reused.
	spareTopics []*topicItems
	spareSinks  []*sinkSubs
}

// item is one committed event and its frame.
type item struct {
	ev    waystation.Event
	frame []byte
}

// topicItems are a batch's events of one topic.
type topicItems struct {
	name  string
	items []item
}

// sinkSubs are the subscriptions of one sink to the batch's topics.
type sinkSubs struct {
	sink Sink
	subs []*Sub
}

// topic returns the batch's entry for a topic, adding it.
func (p *publishing) topic(name string) *topicItems {
	t := entry(p.byTopic, &p.topics, &p.spareTopics, name)
	t.name = name
	return t
}

// sink returns the batch's entry for a sink, adding it.
func (p *publishing) sink(s Sink) *sinkSubs {
	g := entry(p.bySink, &p.sinks, &p.spareSinks, s)
	g.sink = s
	return g
}

// entry returns m[key]; when the batch has none yet, it takes a spare (or
// a new one) and adds it to m and to order.
func entry[K comparable, V any](m map[K]*V, order, spares *[]*V, key K) *V {
	if v := m[key]; v != nil {
		return v
	}
	var v *V
	if n := len(*spares); n > 0 {
		v, *spares = (*spares)[n-1], (*spares)[:n-1]
	} else {
		v = new(V)
	}
	m[key] = v
	*order = append(*order, v)
	return v
}

// reset empties the working memory for the next commit, keeping its
// capacity but no reference to an event, a frame or a subscriber.
func (p *publishing) reset() {
	for _, t := range p.topics {
		clear(t.items)
		t.items, t.name = t.items[:0], ""
		p.spareTopics = append(p.spareTopics, t)
	}
	for _, g := range p.sinks {
		clear(g.subs)
		g.subs, g.sink = g.subs[:0], nil
		p.spareSinks = append(p.spareSinks, g)
	}
	clear(p.topics)
	clear(p.sinks)
	clear(p.frames)
	p.topics, p.sinks, p.frames = p.topics[:0], p.sinks[:0], p.frames[:0]
	clear(p.byTopic)
	clear(p.bySink)
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
// behind; callers hold hub.mu (Drop must not block).
func (s *Sub) dropLocked(reason string) {
	s.closeLocked()
	s.sink.Drop(reason)
}

// StandIn is a Sink that stands in for another for one subscription (a
// console's, which it may withdraw while the replay still runs). Publish
// groups a commit's frames by the sink stood in for, so a console is still
// offered all of a commit's frames at once, and leaves out the frames of
// a withdrawn stand-in.
type StandIn interface {
	Sink
	// Unwrap is the sink stood in for.
	Unwrap() Sink
	// Withdrawn says the subscription's frames are no longer wanted.
	Withdrawn() bool
}

// target is the sink a subscription's frames go to, and whether they are
// no longer wanted.
func target(s Sink) (Sink, bool) {
	if w, ok := s.(StandIn); ok {
		return w.Unwrap(), w.Withdrawn()
	}
	return s, false
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
