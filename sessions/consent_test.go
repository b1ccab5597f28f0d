package sessions

import (
	"context"
	"slices"
	"strings"
	"testing"

	"waystation/devices/profile"
	"waystation/internal/platform/waystation"
)

// The consent gate: a session does not start without consent on file for
// what it records (its stations' kinds, heart readings, its plan's steps);
// it starts once consent is recorded; a withdrawn consent blocks the next
// session; a minor's consent must come from a guardian.
func TestConsentGate(t *testing.T) {
	e := newEnv(t)
	e.engine.RequireConsent = true
	e.engine.Profiles = func() *profile.Set { return e.set }
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-1", Low)
	k, _ := e.device("kiosk-ws-1", "Kiosk", "VR station")
	hs, _ := e.device("vrstation-ws-1", "Headset", "VR station")
	s, err := e.engine.Create(ctx, e.alice, NewSession{Room: "VR station", Client: "C-1", Stations: []string{k.ID, hs.ID},
		Plan: []byte(`{"steps":[{"kind":"sandtray"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.engine.RequiredScopes(ctx, s); !slices.Equal(got, []string{"kiosk", "sandtray", "vr", "biofeedback"}) {
		t.Errorf("required %v", got)
	}
	_, err = e.engine.Transition(ctx, e.alice, s.ID, "start")
	if waystation.ErrorCode(err) != waystation.ECONFLICT || !strings.Contains(err.Error(), "no consent on file for what this session records: kiosk, sandtray, vr, biofeedback") {
		t.Fatalf("start without consent: %v", err)
	}
	c1, err := e.engine.Clients.AddConsent(ctx, e.alice, "C-1", []string{"kiosk", "sandtray"}, ByClient, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "start"); err == nil || !strings.Contains(err.Error(), "for what this session records: vr, biofeedback") {
		t.Fatalf("start with part of the consent: %v", err)
	}
	// A guardian's consent names the guardian, for an adult client too.
	if _, err := e.engine.Clients.AddConsent(ctx, e.alice, "C-1", []string{"vr"}, ByGuardian, ""); err == nil || !strings.Contains(err.Error(), "name the guardian") {
		t.Errorf("a guardian's consent without the guardian's name: %v", err)
	}
	e.engine.Clients.AddConsent(ctx, e.alice, "C-1", []string{"vr", "biofeedback", "vr"}, ByClient, "")
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "start"); err != nil {
		t.Fatalf("start with consent: %v", err)
	}
	e.engine.Transition(ctx, e.alice, s.ID, "end")

	// Withdrawn: kept on file, and the next session is refused.
	w, err := e.engine.Clients.WithdrawConsent(ctx, e.alice, "C-1", c1.ID)
	if err != nil || w.Withdrawn == nil || w.WithdrawnBy != e.alice.Name {
		t.Fatalf("withdraw: %+v %v", w, err)
	}
	if _, err := e.engine.Clients.WithdrawConsent(ctx, e.alice, "C-1", c1.ID); waystation.ErrorCode(err) != waystation.ECONFLICT {
		t.Errorf("withdrawn twice: %v", err)
	}
	next, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "VR station", Client: "C-1", Stations: []string{k.ID}})
	if _, err := e.engine.Transition(ctx, e.alice, next.ID, "start"); err == nil || !strings.Contains(err.Error(), ": kiosk (record it") {
		t.Errorf("start after the kiosk consent was withdrawn: %v", err)
	}
	if cs, _ := e.engine.Clients.Consents(ctx, "C-1"); len(cs) != 2 || cs[0].Withdrawn == nil || !slices.Equal(cs[1].Scopes, []string{"vr", "biofeedback"}) {
		t.Errorf("consents on file %+v", cs)
	}

	// A minor: a guardian, named, consents.
	e.engine.Clients.AddClient(ctx, e.alice, "C-2", Low)
	e.engine.Clients.SetMinor(ctx, "C-2", true)
	for _, tc := range []struct{ by, guardian, want string }{
		{ByClient, "", "is under 14: consent must be given by a guardian"},
		{ByGuardian, " ", "name the guardian"},
		{"parent", "x", `"by" is "client" or "guardian"`},
	} {
		if _, err := e.engine.Clients.AddConsent(ctx, e.alice, "C-2", []string{"kiosk"}, tc.by, tc.guardian); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s/%q: %v, want %q", tc.by, tc.guardian, err, tc.want)
		}
	}
	if c, err := e.engine.Clients.AddConsent(ctx, e.alice, "C-2", []string{"kiosk"}, ByGuardian, "Mother"); err != nil || c.Guardian != "Mother" {
		t.Errorf("guardian consent: %+v %v", c, err)
	}
	if _, err := e.engine.Clients.AddConsent(ctx, e.alice, "C-2", []string{"mindreading"}, ByGuardian, "Mother"); err == nil || !strings.Contains(err.Error(), `unknown scope "mindreading"`) {
		t.Errorf("unknown scope: %v", err)
	}
}
