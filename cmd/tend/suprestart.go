package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/ctl"
)

func supRestartCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	var binary string
	var wait time.Duration
	c := &cobra.Command{Use: "restart", Args: args(cobra.NoArgs),
		Short: "re-execute the supervisor (the tend binary on disk, or --binary) keeping its pid, services and listeners"}
	rf.bind(c)
	c.Flags().StringVar(&binary, "binary", "", "the tend binary to re-execute as (default: the one the supervisor was started as)")
	c.Flags().DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for the new binary to be ready")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		if binary != "" {
			abs, err := filepath.Abs(binary)
			if err != nil {
				return usageError{fmt.Errorf("--binary %s: %w", binary, err)}
			}
			if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
				return usageError{fmt.Errorf("--binary %s: not a file", binary)}
			}
			binary = abs
		}
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			start := time.Now()
			before, err := cl.Stats(ctx)
			if err != nil {
				return err
			}
			if err := cl.Handover(ctx, binary, env.stdout); err != nil {
				return fmt.Errorf("supervisor not restarted: %w", err)
			}
			// The control socket is handed over with the rest: requests
			// wait in its backlog while the new binary starts, and the
			// first answer with a new start time is the new binary's.
			deadline := time.Now().Add(wait)
			for {
				st, err := cl.Stats(ctx)
				switch {
				case err == nil && st.HandoverError != "" && st.HandoverError != before.HandoverError:
					return errors.New("supervisor not restarted: " + st.HandoverError)
				case err == nil && !st.StartedAt.Equal(before.StartedAt) && st.Ready:
					fmt.Fprintf(env.stdout, "Supervisor (pid %d) restarted in %s; %d services kept\n",
						st.PID, time.Since(start).Round(time.Millisecond), st.ByState["up"])
					return nil
				case time.Now().After(deadline):
					return fmt.Errorf("supervisor not ready within %s of the hand-over", wait)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(20 * time.Millisecond): // polling interval
				}
			}
		})(cmd, a)
	}
	return c
}
