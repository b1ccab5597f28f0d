package profile

import (
	"errors"
	"reflect"
	"sort"
	"sync"
	"time"
)

// Folder is the profile folder as last loaded: the good profiles, the
// mistakes of the files that did not load, and when. Reload reads it again
// while the controller runs; a profile that fails to load after a reload is
// gone from the set (its devices are marked, not dropped). Safe for
// concurrent use.
type Folder struct {
	dir string

	mu     sync.RWMutex
	set    *Set
	errs   Errors
	loaded time.Time
}

// ReloadReport says what a reload changed.
type ReloadReport struct {
	Profiles int       `json:"profiles"`
	Added    []string  `json:"added"`
	Removed  []string  `json:"removed"`
	Changed  []string  `json:"changed"`
	Errors   []Problem `json:"errors"`
}

// Problem is one mistake in a profile file, for JSON.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Text    string `json:"text"` // the whole error, as `profile lint` prints it
}

// NewFolder returns the folder dir, not yet loaded (an empty set).
func NewFolder(dir string) *Folder { return &Folder{dir: dir, set: NewSet()} }

// Dir returns the folder's path.
func (f *Folder) Dir() string { return f.dir }

// Set returns the profiles loaded now.
func (f *Folder) Set() *Set {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.set
}

// Problems returns the mistakes found at the last load.
func (f *Folder) Problems() []Problem {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return problems(f.errs)
}

// Loaded returns when the folder was last loaded.
func (f *Folder) Loaded() time.Time {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.loaded
}

func problems(errs Errors) []Problem {
	out := []Problem{}
	for _, e := range errs {
		out = append(out, Problem{File: e.File, Line: e.Line, Field: e.Field, Message: e.Msg, Text: e.Error()})
	}
	return out
}

// Reload reads the folder again and swaps in what loaded.
func (f *Folder) Reload() ReloadReport {
	set, err := LoadDir(f.dir)
	var errs Errors
	if err != nil && !errors.As(err, &errs) {
		errs = Errors{{File: f.dir, Msg: err.Error()}}
	}
	f.mu.Lock()
	old := f.set
	f.set, f.errs, f.loaded = set, errs, time.Now()
	f.mu.Unlock()

	r := ReloadReport{Profiles: len(set.List()), Added: []string{}, Removed: []string{}, Changed: []string{}, Errors: problems(errs)}
	for _, p := range set.List() {
		o, ok := old.Get(p.ID)
		switch {
		case !ok:
			r.Added = append(r.Added, p.ID)
		case !sameProfile(o, p):
			r.Changed = append(r.Changed, p.ID)
		}
	}
	for _, o := range old.List() {
		if _, ok := set.Get(o.ID); !ok {
			r.Removed = append(r.Removed, o.ID)
		}
	}
	sort.Strings(r.Added)
	sort.Strings(r.Removed)
	sort.Strings(r.Changed)
	return r
}

// sameProfile compares two loads of a profile, ignoring where it was read.
func sameProfile(a, b *Profile) bool {
	x, y := *a, *b
	x.File, y.File = "", ""
	return reflect.DeepEqual(x, y)
}
