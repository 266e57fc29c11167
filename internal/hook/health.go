package hook

// HealthStatus is the result of a health-check hook, numbered as Habitat's
// exit codes.
type HealthStatus int

const (
	OK HealthStatus = iota
	Warning
	Critical
	Unknown
)

// String gives the names Habitat's API uses.
func (h HealthStatus) String() string {
	switch h {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// Health maps a health-check run as Habitat does: exit 0 OK, 1 WARNING, 2
// CRITICAL; anything else (3, other codes, a signal, a timeout, a failure to
// start) UNKNOWN.
func Health(res Result) HealthStatus {
	if res.Err != nil || res.TimedOut || res.Exit.Signal != 0 {
		return Unknown
	}
	switch res.Exit.Code {
	case 0:
		return OK
	case 1:
		return Warning
	case 2:
		return Critical
	}
	return Unknown
}
