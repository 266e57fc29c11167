// Command tend is the supervisor and its command line: `tend sup run` runs
// the supervisor; every other command talks to one (or, for `pkg install`,
// works on the root directly).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/ctl"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0/dev"

// Exit codes (SPEC §2).
const (
	exitOK          = 0
	exitFailure     = 1 // the user can fix it: bad argument, not found, conflict
	exitUsage       = 2
	exitUnreachable = 3
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// usageError marks an error in how the command was called.
type usageError struct{ error }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRoot(stdout, stderr, getenv)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "tend: "+oneLine(err.Error()))
	return exitCode(err)
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, ctl.ErrUnreachable):
		return exitUnreachable
	}
	// Every error the supervisor returns (not found, conflict, bad
	// request, wrong secret, internal) is one the user can act on.
	return exitFailure
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func newRoot(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:           "tend",
		Short:         "tend supervises services: starts, checks, restarts and reports them",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	env := &cliEnv{stdout: stdout, stderr: stderr, getenv: getenv}

	sup := &cobra.Command{Use: "sup", Short: "run and control the supervisor"}
	secret := supSecretCmd(env)
	sup.AddCommand(supRunCmd(env), supTermCmd(env), supRestartCmd(env), handoverCheckCmd(), supStatsCmd(env), supDepartCmd(env), supEventsCmd(env), secret)
	svc := &cobra.Command{Use: "svc", Short: "load, start, stop and inspect services"}
	svc.AddCommand(svcLoadCmd(env), svcUnloadCmd(env), svcStartCmd(env), svcStopCmd(env), svcRestartCmd(env), svcUpdateCmd(env), svcSignalCmd(env), svcStatusCmd(env), svcLogsCmd(env))
	pkgCmd := &cobra.Command{Use: "pkg", Short: "install and sign packages"}
	pkgCmd.AddCommand(pkgInstallCmd(env), pkgSignCmd(env))
	origin := &cobra.Command{Use: "origin", Short: "origin signing keys"}
	originKey := &cobra.Command{Use: "key", Short: "origin signing keys"}
	originKey.AddCommand(originKeyGenerateCmd(env))
	origin.AddCommand(originKey)
	health := &cobra.Command{Use: "health", Short: "the supervisor's manual health flag"}
	health.AddCommand(healthSetCmd(env))
	config := &cobra.Command{Use: "config", Short: "push config to a service group"}
	config.AddCommand(configApplyCmd(env))
	file := &cobra.Command{Use: "file", Short: "push files to a service group"}
	file.AddCommand(fileUploadCmd(env))
	ringCmd := &cobra.Command{Use: "ring", Short: "the gossip ring"}
	key := &cobra.Command{Use: "key", Short: "ring encryption keys"}
	key.AddCommand(ringKeyGenerateCmd(env))
	ringCmd.AddCommand(key)
	root.AddCommand(sup, svc, pkgCmd, origin, health, config, file, ringCmd, versionCmd(env))
	for _, c := range []*cobra.Command{sup, secret, svc, pkgCmd, origin, originKey, health, config, file, ringCmd, key} {
		c.RunE = func(c *cobra.Command, args []string) error {
			return usageError{fmt.Errorf("%s needs a subcommand: %s", c.CommandPath(), subNames(c))}
		}
		c.Args = cobra.ArbitraryArgs
	}
	return root
}

func subNames(c *cobra.Command) string {
	var names []string
	for _, s := range c.Commands() {
		names = append(names, s.Name())
	}
	return strings.Join(names, ", ")
}

// cliEnv is what every command needs from the outside world.
type cliEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// args wraps a cobra positional-argument check so its error is a usage
// error that shows the usage line ("accepts 1 arg(s), received 0" alone
// does not say which argument).
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, a []string) error {
		if err := check(c, a); err != nil {
			return usageError{fmt.Errorf("%w; usage: %s", err, c.UseLine())}
		}
		return nil
	}
}

// versionCmd prints the version, as `tend --version` does.
func versionCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print tend's version",
		Args:  args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(env.stdout, "tend version %s\n", version)
			return err
		},
	}
}
