// Package cli is the waystation command line: serve, and the technicians'
// and admins' subcommands. Flags and arguments may come in any order.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"waystation/internal/platform/waystation"
)

// Env is what a command runs with; tests give their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Context ends a long-running command (serve); main ties it to signals.
	Context context.Context
}

// usageError is a mistake in the command line itself: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// command is one subcommand.
type command struct {
	name    string // "device add"
	summary string
	run     func(env *Env, args []string) error
}

var commands []command

func register(name, summary string, run func(env *Env, args []string) error) {
	commands = append(commands, command{name: name, summary: summary, run: run})
}

// Main runs the command line and returns the exit status: 0 done, 1 failed,
// 2 the command line was wrong.
func Main(args []string, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Context == nil {
		env.Context = context.Background()
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stdout)
		return 0
	}
	// The longest command name that the leading words spell.
	var cmd *command
	var rest []string
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == commands[i].name {
			if cmd == nil || len(words) > len(strings.Fields(cmd.name)) {
				cmd, rest = &commands[i], args[len(words):]
			}
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "waystation: unknown command %q\n\n", strings.Join(args, " "))
		usage(env.Stderr)
		return 2
	}
	err := cmd.run(env, rest)
	auditRun(env, cmd.name, rest, err)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "waystation %s: %s\n", cmd.name, ue.msg)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "waystation %s: %s\n", cmd.name, message(err))
		return 1
	}
}

// message is what a person is told: the *waystation.Error's message, or the
// whole wrapped error for anything else.
func message(err error) string {
	var we *waystation.Error
	if errors.As(err, &we) {
		return we.Message
	}
	return err.Error()
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "waystation: the local controller for counselling rooms.")
	fmt.Fprintln(w, "\nUsage: waystation COMMAND [ARGS] [FLAGS]   (flags may come before or after arguments)")
	fmt.Fprintln(w, "\nCommands:")
	sorted := append([]command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-22s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'waystation COMMAND --help' for a command's flags.")
}

// flags returns a flag set for a command; its errors are usage errors.
func flags(env *Env, name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("waystation "+name, pflag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.SortFlags = false
	return fs
}

// parse parses args and checks the number of positional arguments.
func parse(fs *pflag.FlagSet, args []string, minArgs, maxArgs int, argNames string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	pos := fs.Args()
	if len(pos) < minArgs || len(pos) > maxArgs {
		if argNames == "" {
			return nil, usagef("takes no arguments, got %q", strings.Join(pos, " "))
		}
		return nil, usagef("want %s, got %d argument(s): %q", argNames, len(pos), strings.Join(pos, " "))
	}
	return pos, nil
}

// Defaults, each overridable by an environment variable and then a flag.
const (
	defaultAddr     = "127.0.0.1:8080"
	defaultData     = "./data"
	defaultProfiles = "./firmware-profiles"
	defaultScales   = "./content/scales"
)

func dataFlag(env *Env, fs *pflag.FlagSet) *string {
	return fs.String("data", envOr(env, "WAYSTATION_DATA", defaultData), "data folder (env WAYSTATION_DATA)")
}

func profilesFlag(env *Env, fs *pflag.FlagSet) *string {
	return fs.String("profiles", envOr(env, "WAYSTATION_PROFILES", defaultProfiles), "firmware profile folder (env WAYSTATION_PROFILES)")
}

func scalesFlag(env *Env, fs *pflag.FlagSet) *string {
	return fs.String("scales", envOr(env, "WAYSTATION_SCALES", defaultScales), "measurement scale folder (env WAYSTATION_SCALES)")
}

func envOr(env *Env, key, def string) string {
	if v := env.Getenv(key); v != "" {
		return v
	}
	return def
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Run is main's whole body: signals end serve, and the exit status is
// returned.
func Run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	return Main(os.Args[1:], &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Context: ctx})
}
