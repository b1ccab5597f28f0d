package kiosk

import (
	"strings"
	"testing"
	"time"
)

// form3 is a three-item form with 0-3 options, as the controller sends it.
const form3 = `{"scale":"phq-3","form":{"scale":"phq-3","title_en":"Three","title_zh":"三题","prompt_en":"Over the last 2 weeks","prompt_zh":"过去两周",
 "items":[{"id":1,"en":"One","zh":"一","options":[{"score":0,"en":"Not at all","zh":"完全不会"},{"score":1,"en":"Several days","zh":"好几天"},{"score":2,"en":"More than half","zh":"一半以上"},{"score":3,"en":"Nearly every day","zh":"几乎每天"}]},
          {"id":2,"en":"Two","zh":"二","options":[{"score":0,"en":"No","zh":"否"},{"score":1,"en":"Yes","zh":"是"}]},
          {"id":9,"en":"Nine","zh":"九","options":[{"score":0,"en":"No","zh":"否"},{"score":1,"en":"Yes","zh":"是"}]}]}}`

// A self-check: one item a screen; each answer is sent as it is given,
// with how long the item was shown; back changes an answer (sent again);
// after the last, scale.done and the screen the client was on.
func TestSelfCheck(t *testing.T) {
	f := newFixture()
	f.cmd("s-1", "session.start", `{"lang":"zh"}`)
	f.m.CheckIn(3, "calm")
	f.evs = nil
	if err := f.cmd("s-1", "scale.start", form3); err != nil {
		t.Fatal(err)
	}
	st := f.m.State()
	if st.Screen != SelfCheckScreen || st.Check.Item().ZH != "一" || st.Check.Back != Waiting {
		t.Fatalf("after scale.start: %+v", st)
	}
	if err := f.m.CheckBack(); err != ErrWrongScreen {
		t.Errorf("back on the first item: %v", err)
	}
	if err := f.m.Choose(5); err == nil || !strings.Contains(err.Error(), "item 1 has no option scored 5") {
		t.Errorf("a score the item does not offer: %v", err)
	}
	f.now = f.now.Add(2500 * time.Millisecond)
	f.m.Choose(2)
	f.now = f.now.Add(1200 * time.Millisecond)
	f.m.Choose(1)
	f.now = f.now.Add(300 * time.Millisecond)
	f.m.CheckBack() // the client changes item 2
	if st := f.m.State(); st.Check.Index != 1 || st.Check.Answers[2] != 1 {
		t.Fatalf("after back: %+v", st.Check)
	}
	f.now = f.now.Add(800 * time.Millisecond)
	f.m.Choose(0)
	f.now = f.now.Add(4000 * time.Millisecond)
	f.m.Choose(1)
	want := []string{
		`scale.shown {"items":3,"scale":"phq-3"}`,
		`scale.answer {"item":1,"ms":2500,"scale":"phq-3","score":2}`,
		`scale.answer {"item":2,"ms":1200,"scale":"phq-3","score":1}`,
		`scale.answer {"item":2,"ms":800,"scale":"phq-3","score":0}`,
		`scale.answer {"item":9,"ms":4000,"scale":"phq-3","score":1}`,
		`scale.done {"scale":"phq-3"}`,
	}
	var got []string
	for _, e := range f.evs {
		got = append(got, e.kind+" "+string(e.data))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st := f.m.State(); st.Screen != Waiting || st.Check != nil {
		t.Errorf("after the last item: screen %s, check %+v", st.Screen, st.Check)
	}
	if err := f.m.Choose(1); err != ErrWrongScreen {
		t.Errorf("an answer after the end: %v", err)
	}
}

// A form a touch screen cannot show is refused whole, naming why; the
// kiosk stays where it was.
func TestSelfCheckRefusesBadForms(t *testing.T) {
	for _, tc := range []struct{ args, err string }{
		{`{"scale":"x"}`, "0 items; a form has 1 to 200"},
		{`{"scale":"x","form":{"scale":"y","items":[]}}`, `the form is of scale "y", not "x"`},
		{`{"scale":"x","form":{"items":[{"id":1,"en":"One","options":[{"score":0,"en":"No"}]}]}}`, "item 1 has 1 options; 2 to 7 fit the screen"},
		{`{"scale":"x","form":{"items":[{"id":1,"en":"","zh":"","options":[{"score":0},{"score":1}]}]}}`, "item 1: a text of 1 to 400 characters"},
		{`{"scale":"x","form":{"items":[{"id":1,"en":"a","options":[{"score":0},{"score":1}]},{"id":1,"en":"b","options":[{"score":0},{"score":1}]}]}}`, "item 1 appears twice"},
		{`{"scale":"x","form":"nonsense"}`, "form: json: cannot unmarshal"},
	} {
		f := newFixture()
		f.cmd("s-1", "session.start", `{"lang":"en"}`)
		err := f.cmd("s-1", "scale.start", tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.args, err, tc.err)
		}
		if st := f.m.State(); st.Screen != CheckIn || st.Check != nil {
			t.Errorf("%s: a refused form changed the screen to %s", tc.args, st.Screen)
		}
	}
}
