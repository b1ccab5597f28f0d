package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"filippo.io/age"

	"waystation/internal/platform/sqlite"
	"waystation/sessions/records"
	"waystation/sessions/report"
	"waystation/sessions/xdf"
)

func init() {
	register("export", "write a client's records: export --client CODE [--out FILE.zip] [--encrypt] (JSON on standard output without --out); or a session's physiology and markers for research: export --session ID --xdf FILE", runExport)
}

// Export is what `waystation export` writes.
type Export struct {
	Exported time.Time    `json:"exported"`
	By       string       `json:"by"`
	File     records.File `json:"file"`
}

func runExport(env *Env, args []string) error {
	fs := flags(env, "export")
	data := dataFlag(env, fs)
	code := fs.String("client", "", "the client's code (required)")
	out := fs.String("out", "", "a zip file to write: client.json and a PDF report per session (default: the JSON on standard output); created owner-only")
	encrypt := fs.Bool("encrypt", false, "encrypt with a passphrase read from standard input (age; decrypt with: age -d FILE)")
	session := fs.String("session", "", "a session to export for research, with --xdf")
	xdfFile := fs.String("xdf", "", "write the session's RR intervals, heart rate (1 Hz), coherence (every 5 s) and markers as an XDF 1.0 file; created owner-only, never overwritten")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *session != "" || *xdfFile != "" {
		switch {
		case *session == "" || *xdfFile == "":
			return usagef("a session export needs both --session ID and --xdf FILE")
		case *code != "" || *out != "" || *encrypt:
			return usagef("--session exports one session as XDF: leave out --client, --out and --encrypt")
		}
		return exportXDF(env, *data, *session, *xdfFile)
	}
	if *code == "" {
		return usagef("--client CODE is required")
	}
	if *encrypt && *out == "" {
		return usagef("--encrypt writes a file: give --out FILE")
	}
	var pass string
	if *encrypt {
		var err error
		if pass, err = readPassword(env); err != nil {
			return err
		}
		if len(pass) < 12 {
			return usagef("the passphrase is too short: use at least 12 characters")
		}
	}
	db, err := sqlite.Open(env.Context, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	f, err := records.ClientFile(env.Context, db, *code, true)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(Export{Exported: time.Now().UTC(), By: "cli:" + osUser(), File: f}, "", "  ")
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := env.Stdout.Write(append(b, '\n'))
		return err
	}
	archive, err := zipExport(env, db, b, f)
	if err != nil {
		return err
	}
	w, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w (an export never overwrites a file)", err)
	}
	var dst io.WriteCloser = w
	if *encrypt {
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			w.Close()
			return err
		}
		if dst, err = age.Encrypt(w, r); err != nil {
			w.Close()
			return err
		}
	}
	if _, err := io.Copy(dst, bytes.NewReader(archive)); err != nil {
		return err
	}
	if *encrypt {
		if err := dst.Close(); err != nil {
			return err
		}
	}
	if err := w.Sync(); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	how := ""
	if *encrypt {
		how = ", encrypted with the passphrase"
	}
	fmt.Fprintf(env.Stderr, "Exported client %s (%d sessions) to %s%s.\n", f.Client.Code, len(f.Sessions), *out, how)
	return nil
}

// zipExport packs the records and a PDF report per session into a zip.
func zipExport(env *Env, db *sqlite.DB, js []byte, f records.File) ([]byte, error) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create("client.json")
	if err != nil {
		return nil, err
	}
	w.Write(js)
	for _, s := range f.Sessions {
		d, err := report.Load(env.Context, db, s.ID, f.Client.Code) // a group session's: this client's part
		if err != nil {
			return nil, err
		}
		w, err := z.Create("reports/" + s.ID + ".pdf")
		if err != nil {
			return nil, err
		}
		if err := report.PDF(w, d); err != nil {
			return nil, fmt.Errorf("report of %s: %w", s.ID, err)
		}
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// exportXDF writes a session's streams (package xdf) to file.
func exportXDF(env *Env, data, session, file string) error {
	db, err := sqlite.Open(env.Context, data)
	if err != nil {
		return err
	}
	defer db.Close()
	streams, err := xdf.Session(env.Context, db, session)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := xdf.Write(&b, streams); err != nil {
		return err
	}
	w, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w (an export never overwrites a file)", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		w.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, s := range streams {
		n := len(s.Values)
		if s.Format == "string" {
			n = len(s.Strings)
		}
		fmt.Fprintf(env.Stdout, "%s (%s): %d samples\n", s.Name, s.Type, n)
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes, %d streams)\n", file, b.Len(), len(streams))
	return nil
}
