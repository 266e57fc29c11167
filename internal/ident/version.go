package ident

import "strings"

// CompareVersions orders two versions the way Habitat's version_sort does
// (components/core/src/package/ident.rs), made into a total order. It
// returns -1, 0 or +1, and 0 only when a == b.
//
// Habitat reads a version as its first run of digits and dots, split on the
// dots into numbers, followed by an optional extension (the rest of the
// string, without one leading '-'):
//
//   - numbers compare numerically, part by part; a missing part counts as 0,
//     so "1.2" and "1.2.0" are equivalent;
//   - with equal numbers, a version without an extension is newer than one
//     with ("1.0.0" > "1.0.0-rc1"); two extensions compare as strings
//     ("1.0.0-beta1" > "1.0.0-alpha9", "2016j" > "2016i").
//
// Where Habitat gives up, tend decides, so that sorting is consistent:
//
//   - a version Habitat cannot read as numbers (no digits at all, an empty
//     part as in "1..2" or "1.") is older than every version it can read,
//     and such versions compare as strings among themselves; Habitat falls
//     back to comparing the whole strings, which is not transitive when the
//     two kinds mix;
//   - numbers of any length compare correctly (Habitat fails past 2^64-1);
//   - versions Habitat finds equivalent ("1.2" and "1.2.0", "01" and "1",
//     "v1" and "1") are ordered by their bytes.
func CompareVersions(a, b string) int {
	if c := compareHabitat(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// Compare orders idents from oldest to newest: by version (as
// CompareVersions, Habitat's equivalences first), then by release (numbers
// such as 20180608091922 numerically), then by the version's bytes, origin
// and name, so that it returns 0 only for equal idents. A fuzzy ident's
// missing version or release sorts before any given one.
func Compare(a, b Ident) int {
	if c := compareHabitat(a.Version, b.Version); c != 0 {
		return c
	}
	if c := compareRelease(a.Release, b.Release); c != 0 {
		return c
	}
	if c := strings.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	if c := strings.Compare(a.Origin, b.Origin); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// compareRelease compares releases numerically when both are all digits (a
// timestamp), otherwise as strings; an all-digit release is newer than one
// that is not. Ties between equal numbers ("07" and "7") go to the bytes.
func compareRelease(a, b string) int {
	an, bn := allDigits(a), allDigits(b)
	switch {
	case an && bn:
		if c := compareDigits(a, b); c != 0 {
			return c
		}
	case an:
		return 1
	case bn:
		return -1
	}
	return strings.Compare(a, b)
}

// version is a version string split the way Habitat splits it.
type version struct {
	numeric bool     // Habitat could read the numbers
	nums    []string // the dotted parts, all digits
	ext     string   // the extension, without one leading '-'
	hasExt  bool
}

// splitVersion mirrors Habitat's unanchored ([\d.]+)(.+)? match: anything
// before the first digit or dot is ignored, as Habitat ignores it.
func splitVersion(s string) version {
	start := strings.IndexFunc(s, func(r rune) bool { return r == '.' || '0' <= r && r <= '9' })
	if start < 0 {
		return version{}
	}
	end := start
	for end < len(s) && (s[end] == '.' || '0' <= s[end] && s[end] <= '9') {
		end++
	}
	nums := strings.Split(s[start:end], ".")
	for _, n := range nums {
		if n == "" {
			return version{}
		}
	}
	v := version{numeric: true, nums: nums}
	if end < len(s) {
		v.hasExt = true
		v.ext = s[end:]
		if len(v.ext) > 1 && v.ext[0] == '-' {
			v.ext = v.ext[1:]
		}
	}
	return v
}

// compareHabitat is Habitat's ordering with tend's rules for what Habitat
// cannot compare (see CompareVersions). It is a total preorder: it returns 0
// for versions Habitat finds equivalent.
func compareHabitat(a, b string) int {
	va, vb := splitVersion(a), splitVersion(b)
	switch {
	case va.numeric && !vb.numeric:
		return 1
	case !va.numeric && vb.numeric:
		return -1
	case !va.numeric:
		return strings.Compare(a, b)
	}
	for i := range max(len(va.nums), len(vb.nums)) {
		var na, nb string // a missing part is zero, and "" compares as zero
		if i < len(va.nums) {
			na = va.nums[i]
		}
		if i < len(vb.nums) {
			nb = vb.nums[i]
		}
		if c := compareDigits(na, nb); c != 0 {
			return c
		}
	}
	switch {
	case !va.hasExt && !vb.hasExt:
		return 0
	case !va.hasExt:
		return 1
	case !vb.hasExt:
		return -1
	}
	return strings.Compare(va.ext, vb.ext)
}

// compareDigits compares two strings of ASCII digits as numbers of any size.
func compareDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
