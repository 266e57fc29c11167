package tmpl

import (
	"testing"
)

func TestLogicHelpers(t *testing.T) {
	d := map[string]any{"i": int64(1), "f": 1.0, "s": "b", "l": []any{int64(1)}, "m": map[string]any{"a": "x"}, "z": int64(0)}
	runRenderCases(t, []renderCase{
		{"eq numeric", "{{eq i f}} {{eq i 1}} {{eq f 1.5}} {{ne i 2}}", d, "true true false true"},
		{"eq strings and deep", `{{eq s "b"}} {{eq l l}} {{eq m m}} {{eq missing missing}} {{eq s 1}}`, d, "true true true true false"},
		{"ordering", `{{gt i 0}} {{gte i 1}} {{lt s "c"}} {{lte f 0.5}} {{gt s 1}}`, d, "true true true false false"},
		{"bool logic", "{{and i s}} {{and i z}} {{or z s}} {{or z missing}} {{not z}} {{not l}}", d, "true false true false true false"},
		{"len", `{{len l}} {{len m}} {{len s}} {{len "héllo"}} {{len i}}`, d, "1 1 1 6 0"},
		{"in if", `{{#if (and (gt i 0) (eq s "b"))}}yes{{/if}}`, d, "yes"},
	})
}

func TestHabitatHelpers(t *testing.T) {
	d := map[string]any{
		"pkg": map[string]any{
			"origin": "core", "name": "app", "version": "1.0", "release": "20240101",
			"path": "/r/pkgs/core/app/1.0/20240101",
			"deps": []any{
				map[string]any{"origin": "core", "name": "glibc", "version": "2.36", "release": "1"},
				map[string]any{"origin": "core", "name": "busybox", "version": "1.0", "release": "2", "path": "/custom/bb"},
				map[string]any{"origin": "core", "name": "busybox", "version": "2.0", "release": "3"},
			},
		},
		"members": []any{
			map[string]any{"id": "a", "alive": false, "ip": "1"},
			map[string]any{"id": "b", "alive": true, "ip": "2"},
			map[string]any{"id": "c", "alive": "true", "ip": "3"},
			map[string]any{"id": "d", "alive": true, "ip": "4"},
			"not a member",
		},
		"dead":   []any{map[string]any{"alive": false}},
		"single": map[string]any{"alive": true, "x": int64(1)},
		"list":   []any{"a", int64(1), 2.5, true, nil, []any{"n", int64(2)}, map[string]any{"skip": true}},
		"s":      `C:\dir "q"`,
		"bs":     `\`,
		"cfg":    map[string]any{"port": int64(80), "on": true, "t": map[string]any{"k": "v"}},
	}
	runRenderCases(t, []renderCase{
		{"eachAlive", "{{#eachAlive members}}{{@index}}{{id}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}} {{/eachAlive}}", d, "0bF 1dL "},
		{"eachAlive block param", "{{#eachAlive members as |m|}}{{m.ip}}{{/eachAlive}}", d, "24"},
		{"eachAlive none alive renders nothing", "{{#eachAlive dead}}x{{else}}else{{/eachAlive}}", d, ""},
		{"eachAlive falsy renders else", "{{#eachAlive missing}}x{{else}}else{{/eachAlive}}", d, "else"},
		{"eachAlive object", "{{#eachAlive single}}{{@key}}={{this}} {{/eachAlive}}", d, "alive=true x=1 "},
		{"pkgPathFor derived", `{{pkgPathFor "core/glibc"}}`, d, "/r/pkgs/core/glibc/2.36/1"},
		{"pkgPathFor own path, first match", `{{pkgPathFor "core/busybox"}}`, d, "/custom/bb"},
		{"pkgPathFor version", `{{pkgPathFor "core/busybox/2.0"}}`, d, "/r/pkgs/core/busybox/2.0/3"},
		{"pkgPathFor full ident", `{{pkgPathFor "core/busybox/2.0/3"}}`, d, "/r/pkgs/core/busybox/2.0/3"},
		{"pkgPathFor no match", `{{pkgPathFor "core/nope"}}|{{pkgPathFor "core/busybox/9"}}`, d, "|"},
		{"pkgPathFor in block", `{{#each list}}{{/each}}{{#with cfg}}{{pkgPathFor "core/glibc"}}{{/with}}`, d, "/r/pkgs/core/glibc/2.36/1"},
		{"strConcat", `{{strConcat "a" cfg.port cfg.on missing list s}}`, d, `a80truenull[a,1,2.5,true,null,[n,2],{skip:true}]C:\dir "q"`},
		{"strConcat skips objects", `{{strConcat "a" cfg.t "b"}}`, d, "ab"},
		{"strJoin", `{{strJoin list ", "}}`, d, "a, 1, 2.5, true, null, [n,2]"},
		{"strReplace", `{{strReplace s bs "/"}} {{strReplace "aaa" "" "-"}}`, d, `C:/dir "q" -a-a-a-`},
		{"case", `{{toUppercase "héllo"}} {{toLowercase "ÀB"}} {{toUppercase cfg.port}} {{toLowercase missing}}`, d, "HÉLLO àb 80 "},
		{"toJson", "{{toJson cfg}}", d, "{\n  \"on\": true,\n  \"port\": 80,\n  \"t\": {\n    \"k\": \"v\"\n  }\n}"},
		{"toJson scalars", `{{toJson 1}} {{toJson "a\b"}} {{toJson missing}} {{toJson list}}`, d,
			"1 \"a\\\\b\" null [\n  \"a\",\n  1,\n  2.5,\n  true,\n  null,\n  [\n    \"n\",\n    2\n  ],\n  {\n    \"skip\": true\n  }\n]"},
		{"toYaml quotes what YAML 1.1 misreads", `{{toYaml list}}{{toYaml (strConcat "o" "n")}}`, d,
			"- a\n- 1\n- 2.5\n- true\n- null\n- - \"n\"\n  - 2\n- skip: true\n\"on\"\n"},
		{"json alias", "{{json cfg.t}}", d, "{\n  \"k\": \"v\"\n}"},
		{"toToml", "{{toToml cfg}}", d, "on = true\nport = 80\n\n[t]\nk = \"v\"\n"},
		{"toml alias", "{{toml cfg.t}}", d, "k = \"v\"\n"},
		{"toYaml", "{{toYaml cfg}}", d, "\"on\": true\nport: 80\nt:\n  k: v\n"},
	})
}
