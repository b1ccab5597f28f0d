package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/columns"
	"waystation/internal/platform/sqlite"
)

func init() {
	register("user add", "add an account: user add NAME --role ROLE (password on standard input)", userAdd)
	register("user passwd", "set an account's password (on standard input); ends its logins", userPasswd)
	register("user disable", "disable an account; ends its logins", userDisable(true))
	register("user enable", "enable a disabled account", userDisable(false))
	register("user list", "list the accounts", userList)
}

func openAccounts(ctx context.Context, dir string) (*auth.Store, func(), error) {
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	return auth.NewStore(db), func() { db.Close() }, nil
}

// readPassword reads a password from standard input: asked twice without
// echo on a terminal, else the first line (for scripts: echo PW | ...).
func readPassword(env *Env) (string, error) {
	pw, err := readSecret(env, "password", "echo 'PASSWORD' | waystation user ...")
	if err == nil && pw == "" {
		err = fmt.Errorf("no password on standard input (pipe it in: echo 'PASSWORD' | waystation user ...)")
	}
	return pw, err
}

// readSecret reads a secret (a password, a PIN) from standard input: asked
// twice without echo on a terminal, else the first line.
func readSecret(env *Env, what, example string) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		label := strings.ToUpper(what[:1]) + what[1:]
		fmt.Fprintf(env.Stderr, "%s: ", label)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.Stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", fmt.Errorf("the two %ss differ", what)
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read %s from standard input (%s): %w", what, example, err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func userAdd(env *Env, args []string) error {
	fs := flags(env, "user add")
	role := fs.String("role", "", "counsellor, technician or admin")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the account as JSON")
	pos, err := parse(fs, args, 1, 1, "the account's NAME")
	if err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return usagef("--role: %s", message(err))
	}
	pw, err := readPassword(env)
	if err != nil {
		return err
	}
	store, done, err := openAccounts(env.Context, *data)
	if err != nil {
		return err
	}
	defer done()
	u, err := store.Add(env.Context, pos[0], r, pw)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, u)
	}
	fmt.Fprintf(env.Stdout, "Added %s %q (%s).\n", u.Role, u.Name, u.ID)
	return nil
}

func userPasswd(env *Env, args []string) error {
	fs := flags(env, "user passwd")
	data := dataFlag(env, fs)
	pos, err := parse(fs, args, 1, 1, "the account's NAME")
	if err != nil {
		return err
	}
	pw, err := readPassword(env)
	if err != nil {
		return err
	}
	store, done, err := openAccounts(env.Context, *data)
	if err != nil {
		return err
	}
	defer done()
	u, err := store.SetPassword(env.Context, pos[0], pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Password of %q changed; its logins were ended.\n", u.Name)
	return nil
}

func userDisable(disabled bool) func(env *Env, args []string) error {
	name := "user enable"
	if disabled {
		name = "user disable"
	}
	return func(env *Env, args []string) error {
		fs := flags(env, name)
		data := dataFlag(env, fs)
		pos, err := parse(fs, args, 1, 1, "the account's NAME")
		if err != nil {
			return err
		}
		store, done, err := openAccounts(env.Context, *data)
		if err != nil {
			return err
		}
		defer done()
		u, err := store.SetDisabled(env.Context, pos[0], disabled)
		if err != nil {
			return err
		}
		if disabled {
			fmt.Fprintf(env.Stdout, "Disabled %q; its logins were ended.\n", u.Name)
		} else {
			fmt.Fprintf(env.Stdout, "Enabled %q.\n", u.Name)
		}
		return nil
	}
}

func userList(env *Env, args []string) error {
	fs := flags(env, "user list")
	data := dataFlag(env, fs)
	asJSON := fs.Bool("json", false, "print the accounts as a JSON array")
	if _, err := parse(fs, args, 0, 0, ""); err != nil {
		return err
	}
	store, done, err := openAccounts(env.Context, *data)
	if err != nil {
		return err
	}
	defer done()
	users, err := store.List(env.Context)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, users)
	}
	tw := columns.New(env.Stdout)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTATUS")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, status)
	}
	return tw.Flush()
}
