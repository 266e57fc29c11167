package supcfg

import (
	"strings"

	"github.com/spf13/pflag"
)

// Flags holds what was given on the command line, as text. Values are parsed
// by Load, with the same parsers as variables and the file, so a value means
// the same wherever it is written; Set checks the syntax early so that cobra
// can report a typo as a usage error.
type Flags struct {
	byName map[string]*flagValue
}

// Bind registers every `sup run` flag on fs and returns the handle Load
// reads them from. Tokens and API keys have no flag: a command line is
// visible to every user through ps and /proc.
func Bind(fs *pflag.FlagSet) *Flags {
	f := &Flags{byName: map[string]*flagValue{}}
	for _, o := range table() {
		if o.Flag == "" {
			continue
		}
		v := &flagValue{opt: o}
		if o.Default != "none" {
			v.def = o.Default
		}
		usage := o.Meaning
		if o.Env != "" {
			usage += " (env " + o.Env + ")"
		}
		fl := fs.VarPF(v, o.Flag, "", usage)
		if o.field != nil && o.typeName() == "bool" {
			fl.NoOptDefVal = "true" // --http-disable alone means true
		}
		f.byName[o.Flag] = v
	}
	return f
}

// flagValue is a pflag.Value that keeps every value it was given.
type flagValue struct {
	opt  option
	def  string
	vals []string
}

func (v *flagValue) String() string {
	if len(v.vals) == 0 {
		return v.def
	}
	return strings.Join(v.vals, ",")
}

func (v *flagValue) Set(s string) error {
	if v.opt.field != nil {
		var scratch Config
		items := []string{s}
		if v.opt.isList() {
			items = v.opt.split(s)
		}
		if err := v.opt.set(&scratch, items); err != nil {
			return err
		}
	}
	if v.opt.isListOpt() {
		v.vals = append(v.vals, s)
	} else {
		v.vals = []string{s}
	}
	return nil
}

func (v *flagValue) Type() string {
	if v.opt.field == nil {
		return "file"
	}
	return v.opt.typeName()
}

// isListOpt is isList for options that may have no field (--config).
func (o *option) isListOpt() bool { return o.field != nil && o.isList() }

// given returns the values of the named flag if it was set, nil otherwise.
// fs, when not nil, has the last word on whether the flag was set.
func (f *Flags) given(fs *pflag.FlagSet, name string) []string {
	if f == nil {
		return nil
	}
	v := f.byName[name]
	if v == nil || len(v.vals) == 0 {
		return nil
	}
	if fs != nil && !fs.Changed(name) {
		return nil
	}
	return v.vals
}
