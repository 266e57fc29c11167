package main

import (
	"bufio"
	"log/slog"
	"sync"
)

func newLogger(json bool, env *cliEnv) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(env.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(env.stderr, nil))
}

// serviceOutput prints a service's output lines Habitat's way,
// "redis.default(O): line", or as JSON log records with --json-logging.
func serviceOutput(json bool, env *cliEnv, log *slog.Logger) func(sg string, stream byte, line []byte) {
	if json {
		return func(sg string, stream byte, line []byte) {
			log.Info(string(line), "service", sg, "stream", string(stream))
		}
	}
	var mu sync.Mutex
	w := bufio.NewWriterSize(env.stdout, 0)
	return func(sg string, stream byte, line []byte) {
		mu.Lock()
		defer mu.Unlock()
		buf := make([]byte, 0, len(sg)+len(line)+6)
		buf = append(buf, sg...)
		buf = append(buf, '(', stream, ')', ':', ' ')
		buf = append(buf, line...)
		buf = append(buf, '\n')
		w.Write(buf)
		w.Flush()
	}
}
