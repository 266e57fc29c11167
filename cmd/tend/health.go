package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/ctl"
)

func healthSetCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	var healthy, unhealthy bool
	var reason string
	c := &cobra.Command{Use: "set --healthy|--unhealthy [--reason TEXT]", Short: "set or clear the supervisor's manual unhealthy flag", Args: args(cobra.NoArgs)}
	rf.bind(c)
	c.Flags().BoolVar(&healthy, "healthy", false, "clear the flag")
	c.Flags().BoolVar(&unhealthy, "unhealthy", false, "set the flag: /healthy answers 503")
	c.Flags().StringVar(&reason, "reason", "", "why, shown by /healthy and sup stats")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		if healthy == unhealthy {
			return usageError{errors.New("give exactly one of --healthy and --unhealthy")}
		}
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			if err := cl.SetHealth(ctx, unhealthy, reason); err != nil {
				return err
			}
			if unhealthy {
				fmt.Fprintln(env.stdout, "Supervisor marked unhealthy")
			} else {
				fmt.Fprintln(env.stdout, "Supervisor manual unhealthy flag cleared")
			}
			return nil
		})(cmd, a)
	}
	return c
}

func supStatsCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	var asJSON bool
	c := &cobra.Command{Use: "stats", Short: "the supervisor's ready and healthy state, pid, uptime and service counts", Args: args(cobra.NoArgs)}
	rf.bind(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			st, err := cl.Stats(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			w := env.stdout
			fmt.Fprintf(w, "member_id: %s\npid: %d\nuptime: %s\nready: %t\nhealthy: %t\n", st.MemberID, st.PID,
				(time.Duration(st.Uptime * float64(time.Second))).Round(time.Second), st.Ready, st.Healthy)
			for _, r := range st.Reasons {
				fmt.Fprintf(w, "  reason: %s\n", r)
			}
			fmt.Fprintf(w, "services: %d (up %d, down %d, stopped %d)\n", st.Services, st.ByState["up"], st.ByState["down"], st.ByState["stopped"])
			return nil
		})(cmd, a)
	}
	return c
}
