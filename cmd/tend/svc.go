package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ctl"
	"github.com/tend-sh/tend/internal/supcfg"
)

func svcLoadCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	var req api.LoadRequest
	var interval, timeout, hookTimeout, grace secondsFlag
	c := &cobra.Command{
		Use:   "load PKG",
		Short: "load a service from an installed package (fuzzy ident) or a package directory, and start it",
		Args:  args(cobra.ExactArgs(1)),
	}
	rf.bind(c)
	f := c.Flags()
	f.StringVar(&req.Group, "group", "", "service group (default \"default\")")
	f.StringVar(&req.Topology, "topology", "", "standalone or leader")
	f.StringVar(&req.Strategy, "strategy", "", "update strategy: none, at-once or rolling")
	f.StringVar(&req.UpdateCondition, "update-condition", "", "latest (default) or track-channel: follow the update source's newest package, older included")
	f.StringArrayVar(&req.Binds, "bind", nil, "NAME:SERVICE.GROUP[@ORG], repeatable")
	f.StringVar(&req.BindingMode, "binding-mode", "", "strict or relaxed")
	f.Var(&interval, "health-check-interval", "seconds between health checks (default 30)")
	f.Var(&grace, "health-check-grace", "seconds after a start during which a failing health check reports UNKNOWN, until one passes (default 0: none)")
	f.Var(&timeout, "shutdown-timeout", "seconds between the shutdown signal and SIGKILL (default: the package's, else 8)")
	var logMax string
	var logBackups int
	f.StringVar(&logMax, "log-max-bytes", "", "size at which each of the service's log files is rotated, like 10MiB; 0 = never (default: the supervisor's --service-log-max-bytes)")
	f.IntVar(&logBackups, "log-backups", 0, "rotated log files kept (default: the supervisor's --service-log-backups)")
	f.Var(&hookTimeout, "hook-timeout", "seconds one run of the init, reconfigure, file-updated or post-stop hook may take before it is killed (default 60)")
	f.BoolVar(&req.Force, "force", false, "replace a service that is already loaded")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		req.Pkg = absIfPath(a[0])
		req.HealthCheckInterval, req.ShutdownTimeout, req.HookTimeout = interval.ptr(), timeout.ptr(), hookTimeout.ptr()
		req.HealthCheckGrace = grace.ptr()
		if f.Changed("log-max-bytes") {
			n, err := supcfg.ParseSize(logMax)
			if err != nil {
				return usageError{fmt.Errorf("--log-max-bytes: %w", err)}
			}
			req.LogMaxBytes = &n
		}
		if f.Changed("log-backups") {
			req.LogBackups = &logBackups
		}
		req.Wait = true
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			return cl.Load(ctx, req, env.stdout)
		})(cmd, a)
	}
	return c
}

func svcUpdateCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	var req api.UpdateRequest
	var binds []string
	var interval, timeout secondsFlag
	c := &cobra.Command{
		Use:   "update PKG",
		Short: "change a loaded service's update strategy, update condition, binds, health-check interval or shutdown timeout; only new binds restart it",
		Args:  args(cobra.ExactArgs(1)),
	}
	rf.bind(c)
	f := c.Flags()
	f.StringVar(&req.Strategy, "strategy", "", "update strategy: none, at-once or rolling")
	f.StringVar(&req.UpdateCondition, "update-condition", "", "latest or track-channel")
	f.StringArrayVar(&binds, "bind", nil, "NAME:SERVICE.GROUP[@ORG], repeatable; replaces every bind (restarts the service)")
	f.Var(&interval, "health-check-interval", "seconds between health checks")
	f.Var(&timeout, "shutdown-timeout", "seconds between the shutdown signal and SIGKILL")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		req.Pkg = a[0]
		if f.Changed("bind") {
			req.Binds = &binds
		}
		req.HealthCheckInterval, req.ShutdownTimeout = interval.ptr(), timeout.ptr()
		if err := req.Check(); err != nil {
			return usageError{err}
		}
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			return cl.Update(ctx, req, env.stdout)
		})(cmd, a)
	}
	return c
}

// svcSimpleCmd is a command that names one service and streams progress.
func svcSimpleCmd(env *cliEnv, use, short string, op func(c *ctl.Client, ctx context.Context, pkg string, w io.Writer) error) *cobra.Command {
	var rf remoteFlags
	c := &cobra.Command{Use: use + " PKG", Short: short, Args: args(cobra.ExactArgs(1))}
	rf.bind(c)
	c.RunE = func(cmd *cobra.Command, a []string) error {
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			return op(cl, ctx, a[0], env.stdout)
		})(cmd, a)
	}
	return c
}

func svcUnloadCmd(env *cliEnv) *cobra.Command {
	return svcSimpleCmd(env, "unload", "stop a service and forget it", (*ctl.Client).Unload)
}

func svcStartCmd(env *cliEnv) *cobra.Command {
	return svcSimpleCmd(env, "start", "start a stopped service with the options it was loaded with", (*ctl.Client).Start)
}

func svcStopCmd(env *cliEnv) *cobra.Command {
	return svcSimpleCmd(env, "stop", "stop a service and keep it loaded (desired state down)", (*ctl.Client).Stop)
}

func svcRestartCmd(env *cliEnv) *cobra.Command {
	return svcSimpleCmd(env, "restart", "stop a running service and start it again", (*ctl.Client).Restart)
}

func svcSignalCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	c := &cobra.Command{
		Use:   "signal PKG SIGNAL",
		Short: "send a signal (HUP, USR1, TERM or a number) to the service's run process, the main process only",
		Args:  args(cobra.ExactArgs(2)),
	}
	rf.bind(c)
	c.RunE = func(cmd *cobra.Command, a []string) error {
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			return cl.Signal(ctx, a[0], a[1], env.stdout)
		})(cmd, a)
	}
	return c
}

func svcStatusCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	var asJSON bool
	c := &cobra.Command{Use: "status [PKG]", Short: "show loaded services", Args: args(cobra.MaximumNArgs(1))}
	rf.bind(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		pkgArg := ""
		if len(a) == 1 {
			pkgArg = a[0]
		}
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			rows, err := cl.Status(ctx, pkgArg)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(env.stdout, "No services loaded.")
				return nil
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			// Habitat's columns, then health and restarts (what a
			// crash loop or a failing check shows first).
			fmt.Fprintln(tw, "package\ttype\tdesired\tstate\telapsed (s)\tpid\tgroup\thealth\trestarts")
			for _, r := range rows {
				pid := "<none>"
				if r.PID > 0 {
					pid = strconv.Itoa(r.PID)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%d\n", r.Ident, r.Type, r.DesiredState, r.State, r.Elapsed, pid, r.ServiceGroup, r.Health, r.Restarts)
			}
			return tw.Flush()
		})(cmd, a)
	}
	return c
}
