package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-sh/tend/internal/api"
)

// secondsFlag is a flag counting whole seconds. It is refused, with the
// limit in the message, where a time.Duration would overflow: an int flag
// would take 10000000000 and the supervisor would wrap it around.
type secondsFlag struct {
	n   int
	set bool
}

func (f *secondsFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && strings.HasPrefix(s, "-"):
		return fmt.Errorf("%s must not be negative", s)
	case errors.Is(err, strconv.ErrRange):
		return fmt.Errorf("%s is more than the limit of %d seconds (about 292 years)", s, api.MaxSeconds)
	case err != nil:
		return fmt.Errorf("%q is not a whole number of seconds", s)
	}
	if err := api.CheckSeconds(n); err != nil {
		return err
	}
	f.n, f.set = int(n), true
	return nil
}

func (f *secondsFlag) String() string {
	if !f.set {
		return "0"
	}
	return strconv.Itoa(f.n)
}

func (f *secondsFlag) Type() string { return "seconds" }

// ptr is the value for a LoadRequest field: nil when the flag was not given.
func (f *secondsFlag) ptr() *int {
	if !f.set {
		return nil
	}
	n := f.n
	return &n
}
