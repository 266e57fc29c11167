package tmpl

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// renderLimited renders with small limits, so limit tests stay fast.
func renderLimited(t *testing.T, src string, data map[string]any, output, steps int) (string, error) {
	t.Helper()
	tp, err := Parse("t.hbs", src)
	if err != nil {
		t.Fatal(err)
	}
	tp.lim = limits{output: output, steps: steps}
	return tp.Render(data)
}

func TestOutputLimit(t *testing.T) {
	big := make([]any, 100)
	for i := range big {
		big[i] = strings.Repeat("x", 10)
	}
	d := map[string]any{"big": big}
	const limit = 64 << 10 // 100 × 100 × 10 bytes would be 100 000
	nested := "{{#each big}}{{#each ../big}}{{this}}{{/each}}{{/each}}"
	_, err := renderLimited(t, nested, d, limit, maxSteps)
	if !errors.Is(err, ErrOutputTooLarge) || !strings.HasPrefix(err.Error(), "t.hbs: ") {
		t.Fatalf("err = %v, want ErrOutputTooLarge", err)
	}
	// Literal text inside a loop counts as well.
	_, err = renderLimited(t, "{{#each big}}{{#each ../big}}"+strings.Repeat("y", 10)+"{{/each}}{{/each}}", d, limit, maxSteps)
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("content-only loop: err = %v, want ErrOutputTooLarge", err)
	}
	_, err = renderLimited(t, `{{strReplace (strConcat big big) "" (strConcat big big)}}`, d, limit, maxSteps)
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("strReplace blow-up: err = %v, want ErrOutputTooLarge", err)
	}
	// Exactly at the limit is fine, and nesting does not count bytes twice.
	out, err := renderLimited(t, nested, d, 100*100*10, maxSteps)
	if err != nil || len(out) != 100*100*10 {
		t.Fatalf("%d bytes, %v", len(out), err)
	}
}

func TestOutputLimitReal(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 16 MiB")
	}
	big := make([]any, 1024)
	for i := range big {
		big[i] = strings.Repeat("x", 64)
	}
	// 1024 × 1024 × 64 bytes = 64 MiB if it were allowed to finish.
	_, err := Render("t.hbs", "{{#each big}}{{#each ../big}}{{this}}{{/each}}{{/each}}", map[string]any{"big": big})
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("err = %v, want ErrOutputTooLarge", err)
	}
}

func TestWorkLimit(t *testing.T) {
	big := make([]any, 100)
	for i := range big {
		big[i] = int64(i)
	}
	src := "{{#each big}}{{#each ../big}}{{#each ../../big}}{{/each}}{{/each}}{{/each}}"
	_, err := renderLimited(t, src, map[string]any{"big": big}, MaxOutput, 100_000)
	if !errors.Is(err, ErrTooMuchWork) {
		t.Fatalf("err = %v, want ErrTooMuchWork", err)
	}
	if _, err := renderLimited(t, src, map[string]any{"big": big[:40]}, MaxOutput, 100_000); err != nil {
		t.Fatalf("40³ iterations: %v", err)
	}
}

func TestConcurrentRender(t *testing.T) {
	tp, err := Parse("t.hbs", "{{#each cfg}}{{@key}}={{this}};{{/each}}{{#eachAlive m}}{{id}}{{/eachAlive}}{{toJson cfg}}")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				d := map[string]any{"cfg": map[string]any{"g": int64(g), "i": int64(i)}, "m": []any{map[string]any{"alive": true, "id": "x"}}}
				want := fmt.Sprintf("g=%d;i=%d;x{\n  \"g\": %d,\n  \"i\": %d\n}", g, i, g, i)
				got, err := tp.Render(d)
				if err != nil || got != want {
					errs <- fmt.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
