package load

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Controller is a `waystation serve` process on a loopback port, for the
// drills, the JetStream comparison and the kiosk's end-to-end test.
type Controller struct {
	Cmd  *exec.Cmd
	Addr string
	Data string
	out  *outBuffer
	done chan error
}

// FreeAddr returns a loopback address no one listens on, so that a
// controller can be stopped and started again on the same one.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// StartController runs bin (the waystation binary) serving data on addr
// with the profiles folder, without OSC and with the null audio output
// (extra flags come after these, and override them), and waits until it
// answers, at most 20 s. If it exits first, the error holds the last lines
// it printed (why it refused).
func StartController(bin, addr, data, profiles string, extra ...string) (*Controller, error) {
	c := &Controller{Addr: addr, Data: data, out: &outBuffer{}, done: make(chan error, 1)}
	args := []string{"serve", "--addr", addr, "--data", data, "--profiles", profiles, "--osc-listen", "off", "--audio-out", "null"}
	c.Cmd = exec.Command(bin, append(args, extra...)...)
	c.Cmd.Stdout, c.Cmd.Stderr = c.out, c.out
	if err := c.Cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.done <- c.Cmd.Wait() }()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-c.done:
			c.done <- err
			return c, fmt.Errorf("the controller exited at start: %v: %s", err, LastLines(c.Output(), 3))
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c, nil
			}
		}
	}
	c.Stop(syscall.SIGKILL)
	return nil, errors.New("the controller did not answer within 20 s")
}

// Stop signals the controller and waits for it, at most 15 s; a
// controller that has already exited returns at once.
func (c *Controller) Stop(sig syscall.Signal) error {
	c.Cmd.Process.Signal(sig)
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(15 * time.Second):
		c.Cmd.Process.Kill()
		return errors.New("the controller did not stop within 15 s")
	}
}

// PID is the controller's process id.
func (c *Controller) PID() int { return c.Cmd.Process.Pid }

// Output is what the controller has printed so far.
func (c *Controller) Output() string { return c.out.String() }

// LastLines returns the last n lines of s, joined by " | ".
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// outBuffer collects a process's output while others read it.
type outBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *outBuffer) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *outBuffer) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// CLI runs the waystation binary's command line on a data folder and
// profile folder and returns what it printed; the error carries what it
// said on stderr.
func CLI(bin, data, profiles, stdin string, args ...string) ([]byte, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "WAYSTATION_DATA="+data, "WAYSTATION_PROFILES="+profiles)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("waystation %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}
