package tmpl

import (
	"fmt"
	"path"
	"strings"

	"github.com/mailgun/raymond/v2"
	"github.com/tend-sh/tend/internal/svccfg"
)

// Habitat's own helpers (research/habitat.md §6.4). Where Habitat's
// behaviour is odd but harmless it is kept, so a plan renders the same;
// where it would corrupt output, tend says so in a comment.

// eachAliveHelper iterates the members of an array whose "alive" is true,
// with @index, @first and @last counted among the alive ones, the member
// as context and as the block parameter:
//
//	{{#eachAlive bind.backend.members as |m|}}{{m.sys.ip}}{{/eachAlive}}
//
// As in Habitat, a non-empty array with no alive member renders nothing
// (not the {{else}} part), and an object is iterated by key only when its
// own "alive" is true.
func eachAliveHelper(ctx any, o *raymond.Options) string {
	st := stateOf(o)
	ctx = arg(ctx)
	if !truthy(ctx) {
		return st.run(o.Inverse)
	}
	switch c := ctx.(type) {
	case []any:
		var alive []any
		for _, m := range c {
			if isAlive(m) {
				alive = append(alive, m)
			}
		}
		return iterate(st, o, alive, nil)
	case map[string]any:
		if !isAlive(c) {
			return ""
		}
		keys := sortedKeys(c)
		items := make([]any, len(keys))
		for i, k := range keys {
			items[i] = c[k]
		}
		return iterate(st, o, items, keys)
	}
	panic(fmt.Errorf("eachAlive: cannot iterate over %s", kindOf(ctx)))
}

func isAlive(m any) bool {
	obj, ok := m.(map[string]any)
	return ok && obj["alive"] == true
}

// pkgPathFor "origin/name" is the install path of the first entry of
// pkg.deps that matches (origin/name/version or the full ident narrow the
// match), or "" when none does. An entry's own "path" is used when present;
// otherwise the path is derived as Habitat does, ROOT/pkgs/ORIGIN/NAME/
// VERSION/RELEASE, with ROOT taken from pkg.path.
func pkgPathForHelper(ident any, o *raymond.Options) string {
	st := stateOf(o)
	s, _ := arg(ident).(string)
	want := strings.Split(s, "/")
	if len(want) < 2 || len(want) > 4 || slicesContainsEmpty(want) {
		panic(fmt.Errorf("pkgPathFor: invalid package identifier %q (want origin/name)", s))
	}
	pkg, _ := st.root["pkg"].(map[string]any)
	deps, _ := pkg["deps"].([]any)
	for _, d := range deps {
		dep, _ := d.(map[string]any)
		got := []string{str(dep["origin"]), str(dep["name"]), str(dep["version"]), str(dep["release"])}
		if !matches(want, got) {
			continue
		}
		if p, ok := dep["path"].(string); ok && p != "" {
			return p
		}
		return derivedPath(pkg, got)
	}
	return ""
}

func slicesContainsEmpty(parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return true
		}
	}
	return false
}

func matches(want, got []string) bool {
	for i, w := range want {
		if got[i] != w {
			return false
		}
	}
	return true
}

// derivedPath finds the packages root from the service's own pkg.path
// (ROOT/ORIGIN/NAME/VERSION/RELEASE) and places the dependency beside it.
func derivedPath(pkg map[string]any, dep []string) string {
	own := path.Join(str(pkg["origin"]), str(pkg["name"]), str(pkg["version"]), str(pkg["release"]))
	p := str(pkg["path"])
	if dep[2] == "" || dep[3] == "" || !strings.HasSuffix(p, "/"+own) {
		return ""
	}
	return path.Join(strings.TrimSuffix(p, own), path.Join(dep...))
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// strConcatHelper joins its arguments. As in Habitat, objects are skipped
// and other non-strings are written as compact JSON without double quotes
// (so a missing value prints "null" and [1,"a"] prints [1,a]). Strings are
// used as they are; Habitat JSON-escapes them first, which doubles every
// backslash and turns a newline into \n: tend does not copy that.
func strConcatHelper(args ...any) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(bare(arg(a)))
	}
	return b.String()
}

func bare(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		return ""
	}
	return compactJSONBare(v)
}

// strJoinHelper joins an array with a separator, each element written as
// strConcat writes its arguments (objects are left out).
func strJoinHelper(list, sep any) string {
	l, ok := arg(list).([]any)
	if !ok {
		panic(fmt.Errorf("strJoin: first argument is %s, not an array", kindOf(arg(list))))
	}
	s, ok := arg(sep).(string)
	if !ok {
		panic(fmt.Errorf("strJoin: separator is %s, not a string", kindOf(arg(sep))))
	}
	parts := make([]string, 0, len(l))
	for _, e := range l {
		if _, isObj := e.(map[string]any); !isObj {
			parts = append(parts, bare(e))
		}
	}
	return strings.Join(parts, s)
}

// strReplaceHelper replaces every occurrence; all three arguments must be
// strings, as in Habitat. The result's size is checked before it is built:
// replacing "" in a long string with a long string is a quadratic blow-up.
func strReplaceHelper(s, from, to any, o *raymond.Options) string {
	st := stateOf(o)
	var args [3]string
	for i, v := range []any{s, from, to} {
		str, ok := arg(v).(string)
		if !ok {
			panic(fmt.Errorf("strReplace: argument %d is %s; all three must be strings", i+1, kindOf(arg(v))))
		}
		args[i] = str
	}
	n := strings.Count(args[0], args[1])
	if size := len(args[0]) + n*(len(args[2])-len(args[1])); size > st.lim.output-st.produced {
		panic(fmt.Errorf("strReplace: %w", ErrOutputTooLarge))
	}
	return strings.ReplaceAll(args[0], args[1], args[2])
}

func toUppercaseHelper(s any) string { return strings.ToUpper(display(arg(s))) }
func toLowercaseHelper(s any) string { return strings.ToLower(display(arg(s))) }

// toJSONHelper is serde_json's to_string_pretty.
func toJSONHelper(v any) string { return string(appendJSON(nil, arg(v), true, 0)) }

// toTOMLHelper writes a table as TOML (svccfg.EncodeTOML's layout, close to
// Habitat's). Like Habitat it refuses anything but a table. TOML datetimes
// arrive here as strings (see normalizeRoot), so they print quoted.
func toTOMLHelper(v any) string {
	m, ok := arg(v).(map[string]any)
	if !ok {
		panic(fmt.Errorf("toToml: argument is %s, not a table", kindOf(arg(v))))
	}
	b, err := svccfg.EncodeTOML(m)
	if err != nil {
		panic(fmt.Errorf("toToml: %w", err))
	}
	return string(b)
}

func toYAMLHelper(v any) string {
	s, err := toYAML(arg(v))
	if err != nil {
		panic(err)
	}
	return s
}
