package supcfg

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Load builds the configuration: defaults, then the YAML file (path from
// --config, else TEND_CONFIG), then environment variables, then the flags
// that were set on fs. getenv is os.Getenv outside tests; an empty variable
// counts as unset. fs and f may be nil (no flags).
//
// Token and API key files are read here, so a Config holds the tokens
// themselves. Nothing is written anywhere.
//
// Errors are one line that names where the bad value came from:
//
//	config.yaml: line 6: field kye not found
//	TEND_LISTEN_HTTP: "abc" is not host:port
//	--service-max-backoff-period: must be >= the min backoff period (2s)
func Load(fs *pflag.FlagSet, f *Flags, getenv func(string) string) (Config, error) {
	return load(fs, f, getenv, os.Geteuid())
}

// sources remembers where each option's value came from (by YAML key), so
// checks that run after all layers can still name the culprit.
type sources map[string]string

func (s sources) of(o *option) string {
	if l, ok := s[o.YAML]; ok {
		return l
	}
	return o.YAML + " (default)"
}

func load(fs *pflag.FlagSet, f *Flags, getenv func(string) string, euid int) (Config, error) {
	c := defaults(getenv, euid)
	opts := table()
	src := sources{}

	var path, pathSrc string
	if v := f.given(fs, flagConfig); v != nil {
		path, pathSrc = v[len(v)-1], "--"+flagConfig
	} else if p := getenv(envConfig); p != "" {
		path, pathSrc = p, envConfig
	}
	if path != "" {
		if err := readFile(path, pathSrc, &c, opts, src); err != nil {
			return Config{}, err
		}
		c.ConfigFile = path
	}

	for i := range opts {
		o := &opts[i]
		if o.Env == "" || o.field == nil {
			continue
		}
		var names, vals []string
		for _, name := range append([]string{o.Env}, o.envAliases...) {
			v := getenv(name)
			if v == "" {
				continue
			}
			names = append(names, name)
			if o.isList() {
				vals = append(vals, o.split(v)...)
			} else {
				vals = append(vals, v)
			}
			if !o.envAll {
				break
			}
		}
		if len(names) == 0 {
			continue
		}
		name := strings.Join(names, " and ")
		if err := o.set(&c, vals); err != nil {
			return Config{}, fmt.Errorf("%s: %w", name, err)
		}
		src[o.YAML] = name
	}

	for i := range opts {
		o := &opts[i]
		if o.Flag == "" || o.field == nil {
			continue
		}
		given := f.given(fs, o.Flag)
		if given == nil {
			continue
		}
		vals := given
		if o.isList() {
			vals = nil
			for _, g := range given {
				vals = append(vals, o.split(g)...)
			}
		}
		if err := o.set(&c, vals); err != nil {
			return Config{}, fmt.Errorf("--%s: %w", o.Flag, err)
		}
		src[o.YAML] = "--" + o.Flag
	}

	if err := resolveTokens(&c, opts, src); err != nil {
		return Config{}, err
	}
	if err := validate(&c, opts, src); err != nil {
		return Config{}, err
	}
	return c, nil
}

// byYAML finds the option with the given YAML key.
func byYAML(opts []option, key string) *option {
	for i := range opts {
		if opts[i].YAML == key {
			return &opts[i]
		}
	}
	return nil
}
