// Package idempotency makes a write that is sent twice happen once: a
// request carrying an Idempotency-Key header is served once per user and
// key, and the same request again (a double tap, a retry after a dropped
// answer) gets the first answer back, marked Idempotent-Replayed: true,
// without running again. A copy that arrives while the first is still
// running waits for it. Answers are kept in memory for TTL; a 5xx answer
// is not kept, so a retry after a failure runs again.
package idempotency

import (
	"bytes"
	"container/list"
	"net/http"
	"sync"
	"time"

	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
)

// Header is the request header that names a write.
const Header = "Idempotency-Key"

// MaxKey bounds a key's length.
const MaxKey = 128

// Cache keeps the answers to keyed writes.
type Cache struct {
	// TTL is how long an answer is kept; Max how many at most (the
	// oldest go first).
	TTL time.Duration
	Max int

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // of *entry, oldest first
	now     func() time.Time
}

// New returns a cache keeping up to max answers for ttl.
func New(ttl time.Duration, max int) *Cache {
	return &Cache{TTL: ttl, Max: max, entries: map[string]*list.Element{}, order: list.New(), now: time.Now}
}

type entry struct {
	id           string
	method, path string
	at           time.Time
	done         chan struct{} // closed once the answer is kept (or dropped)
	kept         bool
	status       int
	header       http.Header
	body         []byte
}

// Serve runs next for r once per user and key. Without the header it
// just runs next. A key used before for another method or path is refused
// (a client bug that would otherwise return an unrelated answer).
func (c *Cache) Serve(user string, w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
	key := r.Header.Get(Header)
	if key == "" {
		next(w, r)
		return
	}
	if len(key) > MaxKey {
		httpjson.Errorf(w, r, waystation.EINVALID, "%s is longer than %d characters", Header, MaxKey)
		return
	}
	id := user + "\x00" + key
	c.mu.Lock()
	c.expire()
	if el, ok := c.entries[id]; ok {
		e := el.Value.(*entry)
		c.mu.Unlock()
		if e.method != r.Method || e.path != r.URL.Path {
			httpjson.Errorf(w, r, waystation.EINVALID, "%s %q was used for %s %s; a new request needs a new key", Header, key, e.method, e.path)
			return
		}
		select {
		case <-e.done:
		case <-r.Context().Done():
			return
		}
		if e.kept {
			replay(w, e)
			return
		}
		// The first ran and failed (5xx, or it panicked): run this one.
		c.Serve(user, w, r, next)
		return
	}
	e := &entry{id: id, method: r.Method, path: r.URL.Path, at: c.now(), done: make(chan struct{})}
	c.entries[id] = c.order.PushBack(e)
	for c.Max > 0 && c.order.Len() > c.Max {
		c.remove(c.order.Front())
	}
	c.mu.Unlock()

	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		c.mu.Lock()
		if rec.status < 500 && !rec.failed {
			e.kept, e.status, e.header, e.body = true, rec.status, rec.Header().Clone(), rec.body.Bytes()
		} else if el, ok := c.entries[id]; ok && el.Value == e {
			c.remove(el)
		}
		close(e.done)
		c.mu.Unlock()
	}()
	rec.failed = true // until next returns
	next(rec, r)
	rec.failed = false
}

// expire drops answers older than TTL; callers hold mu.
func (c *Cache) expire() {
	cut := c.now().Add(-c.TTL)
	for el := c.order.Front(); el != nil; el = c.order.Front() {
		e := el.Value.(*entry)
		if !e.at.Before(cut) {
			return
		}
		select {
		case <-e.done:
			c.remove(el)
		default:
			return // still running: it goes when it is done and old
		}
	}
}

func (c *Cache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*entry).id)
	c.order.Remove(el)
}

// Len returns how many answers are kept or being made.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func replay(w http.ResponseWriter, e *entry) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(e.status)
	w.Write(e.body)
}

// recorder passes an answer through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	failed bool
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
