package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"

	"waystation/devices/devicetest"
	"waystation/devices/devsim"
	"waystation/internal/testkit/pixels"
)

// A drawing end to end: the counsellor opens House-Tree-Person on the
// kiosk, the client draws (devsim --draw: strokes, an undo, the three
// parts marked done) and finishes; GET /v1/sessions/{id}/drawings replays
// it with the kiosk's model, and the controller's picture is the kiosk's,
// pixel for pixel. A mandala's fills replay too; a template the kiosk has
// not is refused before it is sent.
func TestDrawingReplayedFromTheKiosksEvents(t *testing.T) {
	addr, data := controller(t)
	kioskID, token := seed(t, data)
	simulateKiosk(t, addr, token, nil, func(d *devsim.Device) { d.Draw, d.DrawStepMS = true, 10 })
	c := login(t, addr, "counsellor", "counsellor password")
	devicetest.Wait(t, "the kiosk online", func() bool { _, d := c.do("GET", "/v1/devices/"+kioskID, ""); return d["status"] == "online" })
	c.do("POST", "/v1/clients", `{"code":"C-77","risk":"low"}`)
	c.do("POST", "/v1/clients/C-77/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-77","stations":["`+kioskID+`"]}`)
	id := s["id"].(string)
	if status, body := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 {
		t.Fatalf("start: %d %v", status, body)
	}
	if status, body := c.do("POST", "/v1/sessions/"+id+"/commands", `{"device":"`+kioskID+`","name":"drawing.open","args":{"template":"castle"}}`); status != 400 || !strings.Contains(fmt.Sprint(body), "unknown drawing template") {
		t.Errorf("an unknown template: %d %v", status, body)
	}
	type replayed struct {
		Drawings []struct {
			ID       int
			Template string
			Strokes  int
			Steps    int
			Done     bool
			Refused  int
			PNG      string
			Measures struct {
				Undos int
				Order []struct{ Element string }
			}
		}
	}
	var got replayed
	drawings := func() replayed {
		resp, err := c.http.Get(c.base + "/v1/sessions/" + id + "/drawings")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r replayed
		json.NewDecoder(resp.Body).Decode(&r)
		return r
	}
	for i, tmpl := range []string{"htp", "mandala-3"} {
		if status, body := c.do("POST", "/v1/sessions/"+id+"/commands", `{"device":"`+kioskID+`","name":"drawing.open","args":{"template":"`+tmpl+`"}}`); status != 202 {
			t.Fatalf("drawing.open %s: %d %v", tmpl, status, body)
		}
		devicetest.Wait(t, "the client done drawing "+tmpl, func() bool {
			got = drawings()
			return len(got.Drawings) == i+1 && got.Drawings[i].Done
		})
	}
	htp, mandala := got.Drawings[0], got.Drawings[1]
	var order []string
	for _, m := range htp.Measures.Order {
		order = append(order, m.Element)
	}
	if htp.Template != "htp" || htp.Strokes != 10 || htp.Refused != 0 || htp.Measures.Undos != 1 || strings.Join(order, " ") != "house tree person" {
		t.Errorf("HTP replayed: %+v", htp)
	}
	if mandala.Template != "mandala-3" || mandala.Steps != 8 || mandala.Refused != 0 {
		t.Errorf("mandala replayed: %+v", mandala)
	}
	// The kiosk's picture (sent with drawing.done) and the controller's
	// render of the same events are the same picture.
	_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=0&limit=1000", "")
	n := 0
	for _, e := range page["events"].([]any) {
		ev := e.(map[string]any)
		if ev["kind"] != "drawing.done" {
			continue
		}
		b, _ := base64.StdEncoding.DecodeString(ev["data"].(map[string]any)["png"].(string))
		kiosk, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		n++
		ours := picture(t, c, fmt.Sprintf("/v1/sessions/%s/drawings/%d/png?w=400", id, n))
		if at, differ := pixels.Diff(kiosk, ours); differ {
			t.Errorf("drawing %d: the controller's picture differs from the kiosk's at %v", n, at)
		}
	}
	if n != 2 {
		t.Fatalf("%d drawing.done events, want 2", n)
	}
	// The replay's first step is the bare template; the whole is not.
	first, whole := picture(t, c, "/v1/sessions/"+id+"/drawings/1/png?w=400&step=0"), picture(t, c, htp.PNG+"?w=400")
	blank := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for i := range blank.Pix {
		blank.Pix[i] = 0xff
	}
	if _, differ := pixels.Diff(first, blank); differ {
		t.Error("step 0 should be the blank page")
	}
	if _, differ := pixels.Diff(whole, blank); !differ {
		t.Error("the whole drawing should not be the blank page")
	}
	// The e-file lists both, finished; the report's data has them and its
	// PDF shows both pictures.
	_, file := c.do("GET", "/v1/clients/C-77/file", "")
	if ds, _ := file["drawings"].([]any); len(ds) != 2 || ds[0].(map[string]any)["done"] != true || ds[1].(map[string]any)["template"] != "mandala-3" {
		t.Errorf("e-file drawings: %v", file["drawings"])
	}
	_, rep := c.do("GET", "/v1/sessions/"+id+"/report", "")
	if ds, _ := rep["drawings"].([]any); len(ds) != 2 {
		t.Errorf("report drawings: %v", rep["drawings"])
	}
	resp, err := c.http.Get(c.base + "/v1/sessions/" + id + "/report.pdf")
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := bytes.Count(pdf, []byte("/Subtype /Image")); resp.StatusCode != 200 || n != 2 {
		t.Errorf("report.pdf: %d, %d images, want the 2 drawings", resp.StatusCode, n)
	}
	for _, bad := range []string{"/drawings/3/png", "/drawings/0/png", "/drawings/1/png?w=9", "/drawings/1/png?step=x", "/drawings/1/png?step="} {
		resp, err := c.http.Get(c.base + "/v1/sessions/" + id + bad)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 && resp.StatusCode != 400 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
		}
	}
}

func picture(t *testing.T, c *client, path string) image.Image {
	t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
