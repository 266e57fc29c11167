package tmpl

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mailgun/raymond/v2"
)

// registerHelpers gives a template its own helpers. They shadow raymond's
// global ones of the same name, so nothing depends on, or changes,
// raymond's process-wide registry.
func registerHelpers(t *raymond.Template) {
	t.RegisterHelper(showHelper, show)

	t.RegisterHelper("if", ifHelper)
	t.RegisterHelper("unless", unlessHelper)
	t.RegisterHelper("with", withHelper)
	t.RegisterHelper("each", eachHelper)
	t.RegisterHelper("eachAlive", eachAliveHelper)
	t.RegisterHelper("raw", rawHelper)
	t.RegisterHelper("lookup", lookupHelper)
	t.RegisterHelper("log", logHelper)

	t.RegisterHelper("eq", eqHelper)
	t.RegisterHelper("ne", neHelper)
	t.RegisterHelper("gt", gtHelper)
	t.RegisterHelper("gte", gteHelper)
	t.RegisterHelper("lt", ltHelper)
	t.RegisterHelper("lte", lteHelper)
	t.RegisterHelper("and", andHelper)
	t.RegisterHelper("or", orHelper)
	t.RegisterHelper("not", notHelper)
	t.RegisterHelper("len", lenHelper)

	t.RegisterHelper("pkgPathFor", pkgPathForHelper)
	t.RegisterHelper("strConcat", strConcatHelper)
	t.RegisterHelper("strJoin", strJoinHelper)
	t.RegisterHelper("strReplace", strReplaceHelper)
	t.RegisterHelper("toUppercase", toUppercaseHelper)
	t.RegisterHelper("toLowercase", toLowercaseHelper)
	t.RegisterHelper("toJson", toJSONHelper)
	t.RegisterHelper("toToml", toTOMLHelper)
	t.RegisterHelper("toYaml", toYAMLHelper)
	t.RegisterHelper("json", toJSONHelper)
	t.RegisterHelper("toml", toTOMLHelper)

	for name, spec := range helperSpecs {
		if spec.use == field {
			t.RegisterHelper(name, fieldHelper(name))
		}
	}
}

// arg undoes two raymond quirks on a helper's argument: a missing value
// passed to a variadic helper arrives as a nil []any (normalised data never
// holds a nil slice, so that cannot be confused with real data), and a
// null loop item arrives as nullItem.
func arg(v any) any {
	switch v := v.(type) {
	case []any:
		if v == nil {
			return nil
		}
	case nullItem:
		return nil
	}
	return v
}

// nullItem stands in for a null array element or object value while a loop
// renders it. raymond does not push a nil context, so {{this}} (or the
// block parameter) would otherwise resolve in the enclosing object.
type nullItem struct{}

// show prints one {{expression}}; check routes every mustache here.
func show(v any, o *raymond.Options) string {
	st := stateOf(o)
	st.step()
	s := display(arg(v))
	st.emit(len(s))
	return s
}

func ifHelper(cond any, o *raymond.Options) string {
	st := stateOf(o)
	if isTrue(cond, o) {
		return st.run(o.Fn)
	}
	return st.run(o.Inverse)
}

func unlessHelper(cond any, o *raymond.Options) string {
	st := stateOf(o)
	if isTrue(cond, o) {
		return st.run(o.Inverse)
	}
	return st.run(o.Fn)
}

// isTrue adds handlebars' includeZero=true option to truthy.
func isTrue(v any, o *raymond.Options) bool {
	v = arg(v)
	if truthy(o.HashProp("includeZero")) {
		if _, ok := number(v); ok {
			return true
		}
	}
	return truthy(v)
}

func withHelper(ctx any, o *raymond.Options) string {
	st := stateOf(o)
	ctx = arg(ctx)
	if !truthy(ctx) {
		return st.run(o.Inverse)
	}
	return st.run(func() string { return o.FnWith(ctx) })
}

func rawHelper(o *raymond.Options) string {
	return stateOf(o).run(o.Fn)
}

// eachHelper iterates arrays in order and objects in sorted key order, as
// Habitat does (serde_json objects are BTreeMaps); raymond's own each walks
// Go maps in random order, which would rewrite config files, and restart
// services, for nothing. Inside: @index, @first, @last, and @key for
// objects; the first block parameter is the item.
func eachHelper(ctx any, o *raymond.Options) string {
	st := stateOf(o)
	ctx = arg(ctx)
	if !truthy(ctx) {
		return st.run(o.Inverse)
	}
	switch c := ctx.(type) {
	case []any:
		return iterate(st, o, c, nil)
	case map[string]any:
		keys := sortedKeys(c)
		items := make([]any, len(keys))
		for i, k := range keys {
			items[i] = c[k]
		}
		return iterate(st, o, items, keys)
	}
	panic(fmt.Errorf("each: cannot iterate over %s", kindOf(ctx)))
}

// iterate renders the block once per item; keys, when set, are the items'
// object keys for @key.
func iterate(st *renderState, o *raymond.Options, items []any, keys []string) string {
	var b strings.Builder
	for i, item := range items {
		st.step()
		f := o.NewDataFrame()
		f.Set("index", i)
		f.Set("first", i == 0)
		f.Set("last", i == len(items)-1)
		if keys != nil {
			f.Set("key", keys[i])
		} else {
			f.Set("key", nil) // not an enclosing loop's key
		}
		if item == nil {
			item = nullItem{}
		}
		b.WriteString(st.run(func() string { return o.FnCtxData(item, f) }))
	}
	return b.String()
}

// lookupHelper is handlebars' lookup: obj[key] for an object, obj[index]
// for an array. It returns the value itself, so (lookup a b) can feed
// another helper or a block.
func lookupHelper(obj, key any) any {
	switch o := arg(obj).(type) {
	case map[string]any:
		return o[display(arg(key))]
	case []any:
		if i, ok := index(arg(key)); ok && i < len(o) {
			return o[i]
		}
	}
	return nil
}

func index(k any) (int, bool) {
	switch k := k.(type) {
	case int:
		return k, k >= 0
	case int64:
		return int(k), k >= 0 && k <= int64(^uint(0)>>1)
	case string:
		i, err := strconv.Atoi(k)
		return i, err == nil && i >= 0
	}
	return 0, false
}

// logHelper accepts handlebars' {{log …}} and prints nothing: a template
// has no business writing to the supervisor's log.
func logHelper(...any) string { return "" }

// fieldHelper stands in for one of raymond's global helpers, which Habitat
// does not have: a bare {{equal}} reads the field of that name, as it would
// under Habitat, instead of calling raymond's helper.
func fieldHelper(name string) func(*raymond.Options) any {
	return func(o *raymond.Options) any { return o.Value(name) }
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
