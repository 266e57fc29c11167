package tmpl

import (
	"strings"
	"testing"
)

// FuzzRender parses and renders arbitrary template source over the golden
// render context. Nothing may panic (not even one Render recovers from),
// every error must be one line naming the template, and Parse must never
// hand raymond's parser a template it rejects (that would leak a
// goroutine, and shows as an "internal:" error).
func FuzzRender(f *testing.F) {
	data := goldenData(f)
	for _, s := range []string{
		"{{#each 0 A}}{{/each}}",
		"{{#each cfg.extra}}{{@key}}={{this}}{{/each}}",
		"{{#eachAlive bind.backend.members as |m|}}{{m.sys.ip}}{{/eachAlive}}",
		"{{~#if cfg.tls.enabled~}} {{toToml cfg.tls}} {{~else~}} off {{~/if~}}",
		`{{strReplace (strConcat pkg.name "-" cfg.port) "-" "_"}}`,
		"{{{{raw}}}}{{x}}{{{{/raw}}}}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := Parse("fuzz.hbs", src)
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "internal:") || strings.Contains(msg, "parser failed") || strings.Contains(msg, "\n") {
				t.Fatalf("Parse(%q): %v", src, err)
			}
			return
		}
		// Small limits keep each run fast; the checks are the same.
		tp.lim = limits{output: 1 << 20, steps: 100_000}
		out, err := tp.Render(data)
		if err != nil && strings.Contains(err.Error(), "render failed") {
			// Render recovered a runtime panic: harmless to the supervisor,
			// but a template the checker should have refused at Parse.
			t.Fatalf("Render(%q) recovered a panic: %v", src, err)
		}
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "fuzz.hbs") {
				t.Fatalf("Render(%q): error not one line naming the template: %q", src, msg)
			}
			return
		}
		if len(out) > 1<<20 {
			t.Fatalf("Render(%q): %d bytes passed the limit", src, len(out))
		}
	})
}
