package serve

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/image/webp"

	"waystation/devices/devicetest"
)

// The figure library over REST: the catalogue lists every figure with both
// titles, its category and a picture URL that answers the WebP the kiosk
// draws (cached by ETag); a search in Chinese or English finds figures;
// the counsellor sends a figure to the kiosk's shelf, a first-shelf id as
// the figure that replaced it; unknown figures and weapons (not enabled
// here) are refused before anything is sent.
func TestFigureLibrary(t *testing.T) {
	addr, data := controller(t)
	kioskID, token := seed(t, data)
	simulateKiosk(t, addr, token, nil)
	c := login(t, addr, "counsellor", "counsellor password")
	_, list := c.do("GET", "/v1/content?kind=figure", "")
	items := list["items"].([]any)
	if len(items) < 1500 {
		t.Fatalf("%d figures listed", len(items))
	}
	var lion map[string]any
	for _, it := range items {
		m := it.(map[string]any)
		if m["kind"] != "figure" || m["title_en"] == "" || m["title_zh"] == "" || m["category"] == nil || m["image"] != "/v1/content/figures/"+m["id"].(string)+"/image" {
			t.Fatalf("listed %v", m)
		}
		if m["id"] == "lion" {
			lion = m
		}
	}
	if lion == nil || lion["category"] != "wild" || lion["title_zh"] != "狮子" {
		t.Fatalf("lion: %v", lion)
	}
	resp, err := c.http.Get(c.base + lion["image"].(string))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	img, err := webp.Decode(bytes.NewReader(b))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/webp" || err != nil || img.Bounds().Dx() != 256 {
		t.Fatalf("the lion's picture: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	req, _ := http.NewRequest("GET", c.base+lion["image"].(string), nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if again, err := c.http.Do(req); err != nil || again.StatusCode != 304 {
		t.Errorf("again with its ETag: %v %v", again.StatusCode, err)
	}
	if status, body := c.do("GET", "/v1/content/figures/unicorn-robot/image", ""); status != 404 || !strings.Contains(fmt.Sprint(body), `no figure "unicorn-robot"`) {
		t.Errorf("an unknown figure's picture: %d %v", status, body)
	}
	for q, first := range map[string]string{"狮子": "lion", "police": "police-officer", "%E6%A1%A5": "bridge-at-night"} {
		_, found := c.do("GET", "/v1/content?kind=figure&q="+q, "")
		got := found["items"].([]any)
		if len(got) == 0 || got[0].(map[string]any)["id"] != first {
			t.Errorf("search %s: %v", q, got)
		}
	}
	if status, _ := c.do("GET", "/v1/content?q=lion", ""); status != 400 {
		t.Errorf("q without kind=figure: %d", status)
	}

	devicetest.Wait(t, "the kiosk online", func() bool { _, d := c.do("GET", "/v1/devices/"+kioskID, ""); return d["status"] == "online" })
	c.do("POST", "/v1/clients", `{"code":"C-78","risk":"low"}`)
	c.do("POST", "/v1/clients/C-78/consents", `{"scopes":["kiosk","sandtray"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-78","stations":["`+kioskID+`"]}`)
	id := s["id"].(string)
	if status, body := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 {
		t.Fatalf("start: %d %v", status, body)
	}
	for _, bad := range []struct{ figure, want string }{
		{"unicorn-robot", `no figure \"unicorn-robot\" on the shelf`},
		{"dagger", "this site does not show weapons"},
	} {
		status, body := c.do("POST", "/v1/sessions/"+id+"/commands", `{"device":"`+kioskID+`","name":"sandtray.suggest","args":{"figure":"`+bad.figure+`"}}`)
		if status != 400 || !strings.Contains(fmt.Sprintf("%q", fmt.Sprint(body)), bad.want) {
			t.Errorf("suggest %s: %d %v", bad.figure, status, body)
		}
	}
	for _, fig := range []string{"lion", "prisoner"} {
		if status, body := c.do("POST", "/v1/sessions/"+id+"/commands", `{"device":"`+kioskID+`","name":"sandtray.suggest","args":{"figure":"`+fig+`"}}`); status != 202 {
			t.Fatalf("suggest %s: %d %v", fig, status, body)
		}
	}
	devicetest.Wait(t, "the kiosk's sandtray.suggested events", func() bool {
		_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=0&limit=1000", "")
		var got []string
		for _, e := range page["events"].([]any) {
			ev := e.(map[string]any)
			if ev["kind"] == "sandtray.suggested" {
				got = append(got, ev["data"].(map[string]any)["figure"].(string))
			}
		}
		return strings.Join(got, " ") == "lion person-standing"
	})
}
