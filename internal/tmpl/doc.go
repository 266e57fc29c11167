// Package tmpl renders Habitat-style Handlebars templates: a package's
// hooks and config files, over the data described in research/habitat.md
// §6.3 (sys, pkg, cfg, svc, bind).
//
// raymond (github.com/mailgun/raymond/v2) does the Handlebars work; this
// package owns everything that makes it behave like Habitat's Rust
// renderer and keeps it from hurting the supervisor:
//
//   - Parse refuses a source that is not text (a NUL byte, bytes that are
//     not UTF-8: a program copied in as a hook) or, with mustaches, is
//     over MaxSource, before anything lexes it (source.go).
//   - Parse checks the template with its own pass over raymond's tokens
//     before raymond's parser sees it, because raymond's parser leaks its
//     lexer goroutine on every syntax error; that pass also reports misuse
//     of helpers with a line number.
//   - No HTML escaping: every {{x}} is rewritten to an unescaped call of an
//     internal helper that prints the value as Habitat does (see display).
//   - Helpers are registered per template, never in raymond's global table,
//     and raymond's own globals are shadowed.
//   - {{#each}} walks maps in sorted key order; numbers print like
//     serde_json; datetimes as RFC 3339 strings.
//   - Two whitespace dialects (Dialect): Habitat 1.x's, the default,
//     where a block tag alone on its line keeps its line break, and the
//     Handlebars specification's. See dialect.go and docs/TEMPLATES.md.
//   - Render recovers every panic, and bounds output size and work so a
//     runaway loop fails the render instead of the process.
package tmpl
