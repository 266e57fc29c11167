// Package svccfg builds a service's cfg: the layered configuration that
// templates see (SPEC §6). Layers merge in this order, later wins:
//
//	default.toml < TEND_<PKGNAME> (or HAB_<PKGNAME>) < user.toml < gossip
//
// Every value is decoded to the same small set of Go types, whatever layer
// it came from, so merging and rendering never meet a surprise type:
// tables are map[string]any, arrays []any, integers int64, floats float64,
// strings, bools, and TOML datetimes as go-toml gives them (time.Time,
// toml.LocalDate, toml.LocalTime, toml.LocalDateTime).
package svccfg
