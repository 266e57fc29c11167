package supcfg

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Parsers shared by every layer: a flag, an environment variable and a YAML
// scalar all arrive as the same text and go through the same function, so a
// value means the same thing wherever it is written. Their errors never
// repeat secrets (no parser here is used for one).

// parseDuration accepts a Go duration ("500ms", "1m30s") or a bare number of
// seconds ("5", "0.5"), the unit Habitat's flags use.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if f < 0 {
			return 0, fmt.Errorf("%q: must not be negative", s)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) && err == nil {
			return 0, fmt.Errorf("%q is not a duration (like 500ms, 5s or 5)", s)
		}
		if f >= math.MaxInt64/float64(time.Second) {
			return 0, errDurationLimit(s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if durationRE.MatchString(s) {
			return 0, errDurationLimit(s) // well formed, so too long
		}
		return 0, fmt.Errorf("%q is not a duration (like 500ms, 5s or 5)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: must not be negative", s)
	}
	return d, nil
}

// durationRE is the form time.ParseDuration reads, without a sign; a value
// of this form that it refuses is out of range.
var durationRE = regexp.MustCompile(`^([0-9]*\.?[0-9]+(ns|us|µs|μs|ms|s|m|h))+$`)

// errDurationLimit states the limit a duration went over: time.Duration
// counts nanoseconds in 63 bits.
func errDurationLimit(s string) error {
	return fmt.Errorf("%q is more than the limit of %s (%ds, about 292 years)", s, time.Duration(math.MaxInt64).Truncate(time.Second), int64(math.MaxInt64)/int64(time.Second))
}

// formatDuration prints d as a user would write it: "1m", not "1m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// byteUnits are the size suffixes parseBytes knows, matched without regard
// to case: SI (powers of 1000) and IEC (powers of 1024), as `df -H`/`df -h`.
var byteUnits = map[string]uint64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "tib": 1 << 40,
}

var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

// parseBytes accepts a number of bytes, optionally with a unit: "1073741824",
// "1GiB", "500MB", "1.5G".
func parseBytes(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (like 500MB, 1GiB or 1073741824)", s)
	}
	unit, ok := byteUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB)", s, m[2])
	}
	if !strings.Contains(m[1], ".") {
		n, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil || (n != 0 && n > math.MaxUint64/unit) {
			return 0, errSizeLimit(s)
		}
		return n * unit, nil
	}
	f, _ := strconv.ParseFloat(m[1], 64) // the regexp admits only valid numbers
	v := f * float64(unit)
	if v >= math.MaxUint64 {
		return 0, errSizeLimit(s)
	}
	return uint64(v), nil
}

func errSizeLimit(s string) error {
	return fmt.Errorf("%q is more than the limit of %d bytes (16 EiB)", s, uint64(math.MaxUint64))
}

// ParseSize reads a size as the size options take it: bytes or a number
// with a unit ("10MiB", "500MB").
func ParseSize(s string) (uint64, error) { return parseBytes(s) }

// formatBytes prints n with the largest IEC unit that divides it exactly.
func formatBytes(n uint64) string {
	for _, u := range []struct {
		name string
		size uint64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatUint(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatUint(n, 10)
}

func parseCount(s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is more than the limit of %d", s, uint64(math.MaxUint64))
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number >= 0", s)
	}
	return n, nil
}

func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", s)
	}
	return b, nil
}

// checkHostPort accepts what net.Listen accepts for TCP: an optional host (IP
// or name) and a numeric port. A name is allowed because "localhost:9631" is
// common; the listener reports a name that does not resolve.
func checkHostPort(s string) (string, error) {
	s = strings.TrimSpace(s)
	host, port, err := net.SplitHostPort(s)
	if err != nil || !validPort(port) || strings.ContainsAny(host, " \t/") {
		return "", fmt.Errorf("%q is not host:port", s)
	}
	return s, nil
}

// checkOptionalHostPort is checkHostPort where "" means "off".
func checkOptionalHostPort(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	return checkHostPort(s)
}

func validPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n <= math.MaxUint16
}

// normalizePeer turns host[:port] into host:port with the gossip port filled
// in. A bare IPv6 address ("::1" or "[::1]") is a host without a port.
func normalizePeer(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not host[:port]", s)
	if s == "" || strings.ContainsAny(s, " \t/") {
		return "", bad
	}
	if host, port, err := net.SplitHostPort(s); err == nil {
		if host == "" || !validPort(port) || port == "0" {
			return "", bad
		}
		return s, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if strings.Contains(host, ":") {
		if _, err := netip.ParseAddr(host); err != nil {
			return "", bad
		}
	} else if strings.ContainsAny(host, "[]") {
		return "", bad
	}
	return net.JoinHostPort(host, defaultGossipPort), nil
}

// nameRE is what may appear in a service group's @ORG or as a directory name
// under ROOT/sup: no separators (".", "@", "/") and nothing a shell or a path
// would treat specially.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func checkName(s string) (string, error) {
	if !nameRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a valid name (letters, digits, - and _, starting with a letter or digit)", s)
	}
	return s, nil
}

// checkOptionalName is checkName where "" means "none".
func checkOptionalName(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return checkName(s)
}

func checkIP(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return "", fmt.Errorf("%q is not an IP address", s)
	}
	return s, nil
}

// checkRoot makes the root absolute now, so that later changes of working
// directory (hooks run elsewhere) cannot move it.
func checkRoot(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errors.New("must not be empty")
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return "", fmt.Errorf("%q: %w", s, err)
	}
	return abs, nil
}

// checkPath accepts any non-empty path; whether the file exists and is
// readable is told by whoever opens it.
func checkPath(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errors.New("must not be empty")
	}
	return s, nil
}

// checkCgroups accepts the modes of internal/cgroup.
func checkCgroups(s string) (string, error) {
	if s != "auto" && s != "off" {
		return "", fmt.Errorf("%q: must be auto or off", s)
	}
	return s, nil
}
