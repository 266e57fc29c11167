package spec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrServiceGroup marks a malformed service group (the gateway answers 400).
var ErrServiceGroup = errors.New("malformed service group")

// forbiddenInName are the characters Habitat's ServiceGroup regex excludes
// from the service, group and organization parts: "." and "@" separate the
// parts and "#" once introduced an application-environment prefix.
const forbiddenInName = ".#@"

// FormatServiceGroup validates the parts of a service group and joins them
// as Habitat spells it: "svc.group", or "svc.group@org" when org is not
// empty. Each part must be non-empty and free of ".", "#" and "@".
func FormatServiceGroup(svc, group, org string) (string, error) {
	if err := checkPart("service", svc); err != nil {
		return "", err
	}
	if err := checkPart("group", group); err != nil {
		return "", err
	}
	if org == "" {
		return svc + "." + group, nil
	}
	if err := checkPart("organization", org); err != nil {
		return "", err
	}
	return svc + "." + group + "@" + org, nil
}

// ParseServiceGroup splits "svc.group" or "svc.group@org" into its parts,
// with the rules of FormatServiceGroup.
func ParseServiceGroup(sg string) (svc, group, org string, err error) {
	rest, org, hasOrg := strings.Cut(sg, "@")
	if hasOrg && org == "" {
		return "", "", "", fmt.Errorf("%w %q: empty organization", ErrServiceGroup, sg)
	}
	svc, group, ok := strings.Cut(rest, ".")
	if !ok {
		return "", "", "", fmt.Errorf("%w %q: no group", ErrServiceGroup, sg)
	}
	if _, err := FormatServiceGroup(svc, group, org); err != nil {
		return "", "", "", err
	}
	return svc, group, org, nil
}

func checkPart(what, v string) error {
	if v == "" {
		return fmt.Errorf("%w: empty %s", ErrServiceGroup, what)
	}
	if i := strings.IndexAny(v, forbiddenInName); i >= 0 {
		return fmt.Errorf("%w: %s %q contains %q", ErrServiceGroup, what, v, v[i])
	}
	return nil
}
