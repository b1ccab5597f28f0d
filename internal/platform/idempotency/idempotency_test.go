package idempotency

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// site is a real HTTP server on 127.0.0.1 whose writes go through a Cache;
// the user is the X-User header, and POST /fail answers 503.
type site struct {
	*httptest.Server
	cache *Cache
	runs  atomic.Int64
	hold  chan struct{} // when set, each write waits for it
}

func newSite(t *testing.T) *site {
	s := &site{cache: New(time.Hour, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.cache.Serve(r.Header.Get("X-User"), w, r, func(w http.ResponseWriter, r *http.Request) {
			n := s.runs.Add(1)
			if s.hold != nil {
				<-s.hold
			}
			if r.URL.Path == "/fail" {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("X-Run", fmt.Sprint(n))
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"run":%d}`, n)
		})
	}))
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status   int
	body     string
	replayed bool
}

func (s *site) post(t *testing.T, user, path, key string) answer {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(`{}`))
	req.Header.Set("X-User", user)
	if key != "" {
		req.Header.Set(Header, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header.Get("Idempotent-Replayed") == "true"}
}

func TestOnePerKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		calls [][3]string // user, path, key
		runs  int64
		last  answer
	}{
		{"the same key twice runs once", [][3]string{{"u1", "/notes", "k1"}, {"u1", "/notes", "k1"}}, 1, answer{201, `{"run":1}`, true}},
		{"no key runs each time", [][3]string{{"u1", "/notes", ""}, {"u1", "/notes", ""}}, 2, answer{201, `{"run":2}`, false}},
		{"another user's key is another key", [][3]string{{"u1", "/notes", "k1"}, {"u2", "/notes", "k1"}}, 2, answer{201, `{"run":2}`, false}},
		{"a new key runs again", [][3]string{{"u1", "/notes", "k1"}, {"u1", "/notes", "k2"}}, 2, answer{201, `{"run":2}`, false}},
		{"a failure is not kept", [][3]string{{"u1", "/fail", "k1"}, {"u1", "/fail", "k1"}}, 2, answer{503, "busy\n", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			var last answer
			for _, c := range tc.calls {
				last = s.post(t, c[0], c[1], c[2])
			}
			if s.runs.Load() != tc.runs || last != tc.last {
				t.Errorf("runs %d, last %+v; want %d, %+v", s.runs.Load(), last, tc.runs, tc.last)
			}
		})
	}
}

func TestKeyForAnotherRequestIsRefused(t *testing.T) {
	s := newSite(t)
	s.post(t, "u1", "/notes", "k1")
	a := s.post(t, "u1", "/sessions", "k1")
	if a.status != 400 || !strings.Contains(a.body, `was used for POST /notes`) || s.runs.Load() != 1 {
		t.Errorf("key reused for another path: %+v, runs %d", a, s.runs.Load())
	}
	if a := s.post(t, "u1", "/notes", strings.Repeat("k", MaxKey+1)); a.status != 400 || !strings.Contains(a.body, "longer than") {
		t.Errorf("long key: %+v", a)
	}
}

// A double tap: the copy arrives while the first still runs; it waits and
// gets the first's answer.
func TestCopyWaitsForTheFirst(t *testing.T) {
	s := newSite(t)
	s.hold = make(chan struct{})
	var wg sync.WaitGroup
	answers := make([]answer, 5)
	for i := range answers {
		wg.Go(func() { answers[i] = s.post(t, "u1", "/sessions", "tap") })
	}
	for s.cache.Len() == 0 || s.runs.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the copies are waiting
	close(s.hold)
	wg.Wait()
	replayed := 0
	for _, a := range answers {
		if a.status != 201 || a.body != `{"run":1}` {
			t.Errorf("answer %+v", a)
		}
		if a.replayed {
			replayed++
		}
	}
	if s.runs.Load() != 1 || replayed != 4 {
		t.Errorf("runs %d, replayed %d; want 1 and 4", s.runs.Load(), replayed)
	}
}

func TestAnswersExpireAndAreBounded(t *testing.T) {
	s := newSite(t)
	now := time.Now()
	s.cache.now = func() time.Time { return now }
	s.post(t, "u1", "/notes", "k1")
	now = now.Add(2 * time.Hour)
	if a := s.post(t, "u1", "/notes", "k1"); a.replayed || s.runs.Load() != 2 {
		t.Errorf("after the TTL: %+v, runs %d", a, s.runs.Load())
	}
	s.cache.Max = 3
	for i := range 10 {
		s.post(t, "u1", "/notes", fmt.Sprint("b", i))
	}
	if n := s.cache.Len(); n != 3 {
		t.Errorf("%d answers kept, max 3", n)
	}
}
