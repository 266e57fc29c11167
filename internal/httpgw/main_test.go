package httpgw

import (
	"flag"
	"io"
	"log/slog"
	"testing"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// Some tests run real servers; none of their goroutines may outlive them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
