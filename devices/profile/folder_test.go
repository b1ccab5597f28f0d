package profile

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFolderReloadReportsChanges(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../firmware-profiles/kiosk-ws-1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kiosk-ws-1.yaml")
	os.WriteFile(path, b, 0o644)
	f := NewFolder(dir)
	if r := f.Reload(); !slices.Equal(r.Added, []string{"kiosk-ws-1"}) || len(r.Errors) != 0 {
		t.Fatalf("first load %+v", r)
	}
	if r := f.Reload(); len(r.Added)+len(r.Removed)+len(r.Changed) != 0 {
		t.Errorf("a reload of the same files reports %+v", r)
	}
	changed := bytes.Replace(b, []byte("model: "), []byte("model: New "), 1)
	if bytes.Equal(changed, b) {
		t.Fatal("the fixture has no model line")
	}
	os.WriteFile(path, changed, 0o644)
	if r := f.Reload(); !slices.Equal(r.Changed, []string{"kiosk-ws-1"}) {
		t.Errorf("after an edit: %+v", r)
	}
	os.WriteFile(path, []byte("id: [\n"), 0o644)
	r := f.Reload()
	if !slices.Equal(r.Removed, []string{"kiosk-ws-1"}) || len(r.Errors) != 1 || r.Errors[0].File != path || len(f.Problems()) != 1 {
		t.Errorf("after breaking the file: %+v", r)
	}
	if _, ok := f.Set().Get("kiosk-ws-1"); ok {
		t.Error("a broken profile is still served")
	}
}
