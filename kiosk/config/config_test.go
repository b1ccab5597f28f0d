package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want func(Config) bool
		err  string
	}{
		{"contract", []string{"--controller", "http://127.0.0.1:8080", "--token", "wsd_x", "--journal", "/j", "--lang", "en", "--window", "1280x720"}, nil,
			func(c Config) bool {
				return c.DeviceURL == "ws://127.0.0.1:8080/v1/devices/ws" && c.Token == "wsd_x" && c.Journal == "/j" && c.Lang == "en" && c.WindowW == 1280 && c.WindowH == 720
			}, ""},
		{"token from the environment, full screen", []string{"--controller", "http://h:1"}, map[string]string{TokenEnv: " wsd_env\n", "HOME": "/home/k"},
			func(c Config) bool {
				return c.Token == "wsd_env" && c.WindowW == 0 && c.Journal == "/home/k/.local/state/waystation-kiosk" && c.Lang == "zh" && c.Idle == 10*time.Minute
			}, ""},
		{"flag beats environment", []string{"--controller", "http://h:1", "--token", "a"}, map[string]string{TokenEnv: "b", "XDG_STATE_HOME": "/s"},
			func(c Config) bool { return c.Token == "a" && c.Journal == "/s/waystation-kiosk" }, ""},
		{"benchmark needs no controller", []string{"--bench-frames", "10"}, nil, func(c Config) bool { return c.BenchFrames == 10 }, ""},
		{"no controller", []string{"--token", "a"}, nil, nil, "--controller is required"},
		{"not a URL", []string{"--controller", "127.0.0.1:8080", "--token", "a"}, nil, nil, "--controller"},
		{"no token", []string{"--controller", "http://h:1"}, nil, nil, "no device token"},
		{"bad lang", []string{"--controller", "http://h:1", "--token", "a", "--lang", "de"}, nil, nil, `--lang "de"`},
		{"bad window", []string{"--controller", "http://h:1", "--token", "a", "--window", "100x100"}, nil, nil, "from 320x240"},
		{"short idle", []string{"--controller", "http://h:1", "--token", "a", "--idle", "1s"}, nil, nil, "--idle 1s"},
		{"stray argument", []string{"--controller", "http://h:1", "--token", "a", "extra"}, nil, nil, `unexpected argument "extra"`},
		{"unknown flag", []string{"--fullscreen"}, nil, nil, "unknown flag: --fullscreen"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse("waystation-kiosk", c.args, env(c.env), io.Discard)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !c.want(got) {
				t.Errorf("%+v, %v", got, err)
			}
		})
	}
}
