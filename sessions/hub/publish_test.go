package hub

import (
	"context"
	"encoding/json"
	"testing"

	"waystation/internal/platform/waystation"
)

// noHistory is a store with nothing stored yet.
type noHistory struct{}

func (noHistory) Read(context.Context, string, int64, int) ([]waystation.Event, error) {
	return nil, nil
}

// offers records what a sink is offered, one slice per Offer.
type offers struct{ got [][][]byte }

func (o *offers) Offer(frames ...[]byte) bool {
	o.got = append(o.got, append([][]byte(nil), frames...))
	return true
}
func (o *offers) Put(context.Context, []byte) error { return nil }
func (o *offers) Drop(string)                       {}

// Each console is offered its frames of a commit in one Offer, in commit
// order per topic; an event is encoded once for all its subscribers; and the
// hub keeps no event, frame or subscriber of a commit after publishing it.
func TestPublishGroupsACommitPerConsole(t *testing.T) {
	h := New(noHistory{})
	a, b := &offers{}, &offers{}
	for _, s := range []struct {
		sink   *offers
		stream string
	}{{a, "s-1"}, {a, "s-2"}, {b, "s-2"}} {
		if _, err := h.Subscribe(context.Background(), SessionTopic(s.stream), s.stream, 0, s.sink); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(stream string, seq int64) waystation.Event {
		return waystation.Event{Stream: stream, Seq: seq, Source: "device:d-1", Kind: "sandtray.move", Data: json.RawMessage(`{"x":1}`)}
	}
	commits := []struct {
		events []waystation.Event
		a, b   []string // topic#seq of the frames each console is offered
	}{
		{[]waystation.Event{ev("s-1", 1), ev("s-2", 1), ev("s-3", 1), ev("s-1", 2)}, []string{"session/s-1#1", "session/s-1#2", "session/s-2#1"}, []string{"session/s-2#1"}},
		{[]waystation.Event{ev("s-2", 2)}, []string{"session/s-2#2"}, []string{"session/s-2#2"}},
		{[]waystation.Event{ev("s-3", 2)}, nil, nil},
	}
	for i, c := range commits {
		a.got, b.got = nil, nil
		h.Publish(c.events)
		for _, s := range []struct {
			name string
			o    *offers
			want []string
		}{{"a", a, c.a}, {"b", b, c.b}} {
			if len(s.want) == 0 {
				if len(s.o.got) != 0 {
					t.Errorf("commit %d: console %s offered %d times, want none", i, s.name, len(s.o.got))
				}
				continue
			}
			if len(s.o.got) != 1 {
				t.Fatalf("commit %d: console %s offered %d times, want once", i, s.name, len(s.o.got))
			}
			var got []string
			for _, f := range s.o.got[0] {
				var fr EventFrame
				if err := json.Unmarshal(f, &fr); err != nil {
					t.Fatal(err)
				}
				got = append(got, fr.Topic+"#"+string(rune('0'+fr.Seq)))
			}
			if len(got) != len(s.want) {
				t.Fatalf("commit %d: console %s got %v, want %v", i, s.name, got, s.want)
			}
			for j := range got {
				if got[j] != s.want[j] {
					t.Errorf("commit %d: console %s got %v, want %v", i, s.name, got, s.want)
					break
				}
			}
		}
		if c.b != nil && &a.got[0][len(a.got[0])-1][0] != &b.got[0][0][0] {
			t.Errorf("commit %d: the two consoles got separately encoded frames of one event", i)
		}
		p := &h.pub
		if len(p.topics) != 0 || len(p.sinks) != 0 || len(p.byTopic) != 0 || len(p.bySink) != 0 || len(p.frames) != 0 {
			t.Errorf("commit %d: working memory not emptied: %d topics, %d sinks, %d frames", i, len(p.topics), len(p.sinks), len(p.frames))
		}
		for _, tp := range p.spareTopics {
			for _, it := range tp.items[:cap(tp.items)] {
				if it.frame != nil || it.ev.Data != nil {
					t.Errorf("commit %d: a spare keeps an event of %s", i, it.ev.Stream)
				}
			}
		}
		for _, g := range p.spareSinks {
			for _, sub := range g.subs[:cap(g.subs)] {
				if sub != nil || g.sink != nil {
					t.Errorf("commit %d: a spare keeps a subscriber", i)
				}
			}
		}
	}
}

// standIn stands in for a console for one subscription, as a console's
// replay sink does.
type standIn struct {
	*offers
	console   *offers
	withdrawn bool
}

func (s *standIn) Unwrap() Sink    { return s.console }
func (s *standIn) Withdrawn() bool { return s.withdrawn }

// Subscriptions made through stand-ins are still offered to their console
// together, once a commit; a withdrawn one's frames are left out.
func TestPublishGroupsThroughStandIns(t *testing.T) {
	h := New(noHistory{})
	console := &offers{}
	ins := []*standIn{{offers: &offers{}, console: console}, {offers: &offers{}, console: console}, {offers: &offers{}, console: console}}
	for i, in := range ins {
		stream := []string{"s-1", "s-2", "s-3"}[i]
		if _, err := h.Subscribe(context.Background(), SessionTopic(stream), stream, 0, in); err != nil {
			t.Fatal(err)
		}
	}
	ins[2].withdrawn = true
	h.Publish([]waystation.Event{{Stream: "s-1", Seq: 1, Kind: "x"}, {Stream: "s-2", Seq: 1, Kind: "x"}, {Stream: "s-3", Seq: 1, Kind: "x"}})
	if len(console.got) != 1 || len(console.got[0]) != 2 {
		t.Fatalf("the console was offered %d times (%v), want once with the two frames it still wants", len(console.got), console.got)
	}
	for _, in := range ins {
		if len(in.got) != 0 {
			t.Errorf("a stand-in itself was offered %v", in.got)
		}
	}
}
