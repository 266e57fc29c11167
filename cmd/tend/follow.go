package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ctl"
	"github.com/tend-sh/tend/internal/events"
)

// timeLayout is how svc logs and sup events show when something happened.
const timeLayout = "2006-01-02 15:04:05.000"

func svcLogsCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	var req ctl.LogsRequest
	var asJSON bool
	c := &cobra.Command{
		Use:   "logs PKG",
		Short: "show a service's latest output lines (stdout, stderr, hooks) and, with -f, follow it",
		Args:  args(cobra.ExactArgs(1)),
	}
	rf.bind(c)
	f := c.Flags()
	f.BoolVarP(&req.Follow, "follow", "f", false, "keep printing new lines as the service writes them")
	f.IntVarP(&req.Tail, "lines", "n", 100, "how many of the latest lines to print first")
	f.StringVar(&req.Stream, "stream", "", "only this stream: stdout, stderr or hooks")
	f.BoolVar(&asJSON, "json", false, "print one JSON object a line, for scripts")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		switch req.Stream {
		case "", api.StreamStdout, api.StreamStderr, api.StreamHooks:
		default:
			return usageError{fmt.Errorf("--stream must be stdout, stderr or hooks, not %q", req.Stream)}
		}
		if req.Tail < 0 {
			return usageError{fmt.Errorf("-n must be 0 or more, not %d", req.Tail)}
		}
		req.Pkg = a[0]
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			return cl.Logs(ctx, req, func(l api.LogLine) { printLogLine(env.stdout, l, asJSON) })
		})(cmd, a)
	}
	return c
}

// printLogLine prints "TIME STREAM LINE"; a hook's line names the hook.
func printLogLine(w io.Writer, l api.LogLine, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(w).Encode(l)
		return
	}
	stream := l.Stream
	if l.Hook != "" {
		stream += "[" + l.Hook + "]"
	}
	fmt.Fprintf(w, "%s %s: %s\n", l.At.Local().Format(timeLayout), stream, l.Text)
}

func supEventsCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	var follow, asJSON bool
	var after uint64
	c := &cobra.Command{
		Use:   "events",
		Short: "show what the supervisor did lately (state, health, restarts, config, control, ring) and, with -f, follow it",
		Args:  args(cobra.NoArgs),
	}
	rf.bind(c)
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing events as they happen")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object a line, for scripts")
	c.Flags().Uint64Var(&after, "after", 0, "only the events after this id")
	c.RunE = withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
		return cl.Events(ctx, after, follow, func(e events.Event) { printEvent(env.stdout, e, asJSON) })
	})
	return c
}

// printEvent prints "TIME #ID TYPE TEXT".
func printEvent(w io.Writer, e events.Event, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(w).Encode(e)
		return
	}
	fmt.Fprintf(w, "%s #%d %-15s %s\n", e.At.Local().Format(timeLayout), e.ID, e.Type, e.Text)
}
