package spec

import (
	"bytes"
	"slices"
)

// Same reports whether a and b encode to the same file (Encode). Two
// specs whose fields are equal are the same without encoding either:
// a restart over its root compares every start-up service's spec with its
// file's, and they are equal, field for field, unless something changed.
// Only specs that differ somewhere are encoded, so that a difference the
// file does not show (nil or empty binds, a pointer to an equal value)
// still counts as the same.
func Same(a, b Spec) bool {
	return a.equalFields(b) || bytes.Equal(a.Encode(), b.Encode())
}

// equalFields reports whether every field of s and o is equal; false may
// still be the same file. The kept keys are equal when both specs share
// them (copies of one parsed spec), never compared byte for byte.
func (s Spec) equalFields(o Spec) bool {
	return s.Ident == o.Ident && s.Group == o.Group && s.BldrURL == o.BldrURL &&
		s.Channel == o.Channel && s.Topology == o.Topology &&
		s.UpdateStrategy == o.UpdateStrategy && s.UpdateCondition == o.UpdateCondition &&
		slices.Equal(s.Binds, o.Binds) &&
		s.BindingMode == o.BindingMode && s.DesiredState == o.DesiredState &&
		samePtr(s.ConfigFrom, o.ConfigFrom) && samePtr(s.ShutdownTimeout, o.ShutdownTimeout) &&
		samePtr(s.SvcEncryptedPassword, o.SvcEncryptedPassword) &&
		samePtr(s.LogMaxBytes, o.LogMaxBytes) && samePtr(s.LogBackups, o.LogBackups) &&
		samePtr(s.HookTimeout, o.HookTimeout) && samePtr(s.HealthCheckGrace, o.HealthCheckGrace) &&
		s.HealthCheckInterval == o.HealthCheckInterval && sharedKept(s.kept, o.kept)
}

// samePtr: both nil, or both pointing to equal values.
func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// sharedKept: no kept keys on either side, or the same ones (one parse's).
func sharedKept(a, b []keptEntry) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}
