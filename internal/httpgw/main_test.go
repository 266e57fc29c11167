package httpgw

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// Some tests run real servers; none of their goroutines may outlive them.
// A benchmark's client process (benchclient_test.go) plays its part instead.
func TestMain(m *testing.M) {
	if role := os.Getenv(benchClientEnv); role != "" {
		n, _ := strconv.Atoi(os.Getenv(benchNEnv))
		os.Exit(benchClient(role, os.Getenv(benchURLEnv), n))
	}
	goleak.VerifyTestMain(m)
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
