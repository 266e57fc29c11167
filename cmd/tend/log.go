package main

import (
	"log/slog"
)

func newLogger(json bool, env *cliEnv) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(env.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(env.stderr, nil))
}

// serviceOutput prints a service's output lines on stdout in the
// supervisor's own log format, each line timed: logfmt records
// `time=... level=INFO msg="the line" service=redis.default stream=O`, or
// JSON records with --json-logging. One parser reads both streams; Habitat's
// untimed "redis.default(O): line" could not be told apart from a service
// printing that itself.
func serviceOutput(json bool, env *cliEnv) func(sg string, stream byte, line []byte) {
	out := newLogger(json, &cliEnv{stderr: env.stdout})
	return func(sg string, stream byte, line []byte) {
		out.Info(string(line), "service", sg, "stream", string(stream))
	}
}
