package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/testkit/load"
)

// kioskTaps is how often the drill's kiosk client taps, per second.
const kioskTaps = 50

// F8: the kiosk app killed with -9 mid-session, again and again. The kiosk
// is waystation-devsim --journal: the app's own model, journal and link
// without the screen, and a client tapping 50 times a second. It reaches
// the controller through the drill's proxy, which goes silent for a moment
// before each kill, so the kiosk dies with taps the controller never got
// and taps it stored without the kiosk hearing so. Each time the kiosk
// starts again it sends what its journal still holds. Every tap it
// journaled must be stored exactly once.
func (d *drills) f8(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	kiosk, token, err := d.addKiosk(c.Data)
	if err != nil {
		return "", err
	}
	counsellor, err := d.counsellor(c.Data, c.Addr)
	if err != nil {
		return "", err
	}
	session, err := counsellor.OpenSession("DRILL-F8", "Drill room", []string{kiosk})
	if err != nil {
		return "", err
	}
	jdir, err := os.MkdirTemp("", "waystation-drill-journal-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(jdir)

	p := &proxy{target: c.Addr}
	if err := p.start(); err != nil {
		return "", err
	}
	defer p.stop()
	k := &kioskRun{bin: sibling("waystation-devsim"), args: []string{"--profile", "kiosk-ws-1", "--profiles", d.profiles,
		"--controller", "http://" + p.addr, "--token", token, "--journal", jdir}, journaled: map[string]int64{}}
	var resent int
	for i := range d.rounds {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		cmd, lines, err := k.start(fmt.Sprint(kioskTaps))
		if err != nil {
			return "", err
		}
		// The kiosk, restarted on its attract screen, is told its session
		// by the controller as soon as it is back; the drill waits for that
		// (not for a fixed time), then the counsellor steers it.
		if err := k.waitJoined(session, 15*time.Second); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return "", fmt.Errorf("round %d: %w", i+1, err)
		}
		if _, err := counsellor.Do("POST", "/v1/sessions/"+session+"/commands", map[string]any{"device": kiosk, "name": "breathing.set", "args": map[string]int{"bpm": 6}}); err != nil {
			cmd.Process.Kill()
			return "", err
		}
		time.Sleep(time.Duration(500+250*(i%3)) * time.Millisecond)
		p.goSilent()
		time.Sleep(150 * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		p.endSilence()
		r := <-lines
		resent += r.pending
	}
	// The last start: it taps for a second, then stops and waits for the
	// controller to store everything its journal holds.
	cmd, lines, err := k.start(fmt.Sprint(kioskTaps), "--duration", "1s")
	if err != nil {
		return "", err
	}
	exitErr := cmd.Wait()
	last := <-lines
	resent += last.pending

	db, err := sqlite.OpenReadOnly(c.Data)
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT json_extract(data, '$.n'), count(*), sum(stream = ?) FROM events WHERE source = ? AND kind = 'client.tap' GROUP BY 1`, session, "device:"+kiosk)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	stored := map[string]int{}
	var inSession int
	for rows.Next() {
		var nonce string
		var n, s int
		if err := rows.Scan(&nonce, &n, &s); err != nil {
			return "", err
		}
		stored[nonce], inSession = n, inSession+s
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	var lost, doubled int
	for nonce := range k.journaled {
		switch n := stored[nonce]; {
		case n == 0:
			lost++
		case n > 1:
			doubled++
		}
	}
	var integrity string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&integrity); err != nil {
		return "", err
	}
	sent := len(k.journaled)
	line := fmt.Sprintf("x%d: sent %d acknowledged %d found %d lost %d duplicated %d; %d sent again from the journal after restarts; %d of %d stored in the session; store %s",
		d.rounds, sent, sent-last.unstored, sent-lost, lost, doubled, resent, inSession, len(stored), integrity)
	switch {
	case lost > 0 || doubled > 0:
		return line, errors.New("journaled taps lost or doubled")
	case inSession != len(stored):
		return line, fmt.Errorf("%d taps were stored outside the session", len(stored)-inSession)
	case exitErr != nil || last.unstored != 0:
		return line, fmt.Errorf("the last kiosk run ended with %d taps unstored (%v)", last.unstored, exitErr)
	case integrity != "ok":
		return line, errors.New("the store is damaged")
	case sent == 0:
		return line, errors.New("the kiosk journaled nothing")
	}
	return line, nil
}

// kioskRun starts the headless kiosk again and again on one journal and
// keeps what its runs printed.
type kioskRun struct {
	bin  string
	args []string
	mu   sync.Mutex
	// journaled maps each tap's nonce to its dseq, as the kiosk printed
	// them once the tap was on disk.
	journaled map[string]int64
	// joined has the sessions the running kiosk said it joined.
	joined chan string
}

// waitJoined waits until the running kiosk says it is in session.
func (k *kioskRun) waitJoined(session string, limit time.Duration) error {
	timeout := time.After(limit)
	for {
		select {
		case s := <-k.joined:
			if s == session {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("the restarted kiosk was not back in session %s within %s", session, limit)
		}
	}
}

// kioskOutput is what one run of the kiosk printed besides its taps.
type kioskOutput struct {
	pending, unstored int
}

// start runs the kiosk tapping rate times a second; lines yields what it
// printed once its output ends.
func (k *kioskRun) start(rate string, extra ...string) (*exec.Cmd, <-chan kioskOutput, error) {
	cmd := exec.Command(k.bin, append(append(append([]string{}, k.args...), "--rate", rate), extra...)...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w (make build puts it in bin/)", k.bin, err)
	}
	lines := make(chan kioskOutput, 1)
	k.joined = make(chan string, 16)
	joined := k.joined
	go func() {
		var o kioskOutput
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var dseq int64
			var nonce string
			if n, _ := fmt.Sscanf(sc.Text(), "journaled %d %s", &dseq, &nonce); n == 2 {
				k.mu.Lock()
				k.journaled[nonce] = dseq
				k.mu.Unlock()
				continue
			}
			var session string
			if n, _ := fmt.Sscanf(sc.Text(), "session %s", &session); n == 1 {
				select {
				case joined <- session:
				default:
				}
				continue
			}
			fmt.Sscanf(sc.Text(), "pending %d", &o.pending)
			fmt.Sscanf(sc.Text(), "unstored %d", &o.unstored)
		}
		lines <- o
	}()
	return cmd, lines, nil
}

// counsellor adds a counsellor account through the CLI and logs it in.
func (d *drills) counsellor(data, addr string) (*load.Web, error) {
	const user, password = "drill-counsellor", "drill counsellor password"
	if _, err := d.cli(data, password+"\n", "user", "add", user, "--role", "counsellor"); err != nil {
		return nil, err
	}
	return load.LoginVia(addr, user, password, d.transport(addr))
}
