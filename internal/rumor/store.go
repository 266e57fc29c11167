package rumor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// MaxBody is the largest config or file body a rumor may carry.
const MaxBody = 64 << 10

// Key names the slot a rumor occupies in a store; a newer rumor with the
// same key replaces an older one.
func (r Rumor) Key() string {
	switch r.Kind {
	case KindService:
		if r.Service != nil {
			return "service/" + r.Service.ServiceGroup + "/" + r.Service.MemberID
		}
	case KindConfig:
		if r.Config != nil {
			return "config/" + r.Config.ServiceGroup
		}
	case KindFile:
		if r.File != nil {
			return "file/" + r.File.ServiceGroup + "/" + r.File.Filename
		}
	case KindDeparture:
		if r.Departure != nil {
			return "departure/" + r.Departure.MemberID
		}
	case KindElection:
		if r.Election != nil {
			return "election/" + r.Election.ServiceGroup
		}
	case KindElectionUpdate:
		if r.Election != nil {
			return "election_update/" + r.Election.ServiceGroup
		}
	case KindUpdate:
		if r.Update != nil {
			return "update/" + r.Update.ServiceGroup
		}
	}
	return ""
}

// Incarnation is the rumor's version; a departure has none (0), an
// election its term.
func (r Rumor) Incarnation() uint64 {
	switch {
	case r.Service != nil:
		return r.Service.Incarnation
	case r.Config != nil:
		return r.Config.Incarnation
	case r.File != nil:
		return r.File.Incarnation
	case r.Election != nil:
		return r.Election.Term
	case r.Update != nil:
		return r.Update.Incarnation
	}
	return 0
}

// Validate checks that exactly one payload is set and matches Kind, that
// ids are non-empty and usable in a key, and that bodies fit.
func (r Rumor) Validate() error {
	n := 0
	for _, set := range []bool{r.Service != nil, r.Config != nil, r.File != nil, r.Departure != nil, r.Election != nil, r.Update != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("rumor: %d payloads set, want exactly 1", n)
	}
	switch r.Kind {
	case KindService:
		if r.Service == nil {
			return errors.New("rumor: kind service without a service payload")
		}
		return firstErr(id("member id", r.Service.MemberID), id("service group", r.Service.ServiceGroup))
	case KindConfig:
		if r.Config == nil {
			return errors.New("rumor: kind config without a config payload")
		}
		if err := id("service group", r.Config.ServiceGroup); err != nil {
			return err
		}
		if len(r.Config.Config) > MaxBody {
			return fmt.Errorf("rumor: config of %s is %d bytes, at most %d allowed", r.Config.ServiceGroup, len(r.Config.Config), MaxBody)
		}
	case KindFile:
		if r.File == nil {
			return errors.New("rumor: kind file without a file payload")
		}
		if err := id("service group", r.File.ServiceGroup); err != nil {
			return err
		}
		f := r.File.Filename
		if err := CheckFilename(f); err != nil {
			return fmt.Errorf("rumor: %w", err)
		}
		if len(r.File.Body) > MaxBody {
			return fmt.Errorf("rumor: file %s of %s is %d bytes, at most %d allowed", f, r.File.ServiceGroup, len(r.File.Body), MaxBody)
		}
	case KindDeparture:
		if r.Departure == nil {
			return errors.New("rumor: kind departure without a departure payload")
		}
		return id("member id", r.Departure.MemberID)
	case KindUpdate:
		u := r.Update
		if u == nil {
			return errors.New("rumor: kind update without an update payload")
		}
		if err := firstErr(id("service group", u.ServiceGroup), id("member id", u.FromID)); err != nil {
			return err
		}
		if u.Package == "" || strings.Count(u.Package, "/") != 3 {
			return fmt.Errorf("rumor: update of %s names package %q, want origin/name/version/release", u.ServiceGroup, u.Package)
		}
	case KindElection, KindElectionUpdate:
		e := r.Election
		if e == nil {
			return errors.New("rumor: kind election without an election payload")
		}
		if err := firstErr(id("member id", e.MemberID), id("service group", e.ServiceGroup)); err != nil {
			return err
		}
		if e.Status != Running && e.Status != NoQuorum && e.Status != Finished {
			return fmt.Errorf("rumor: election of %s has status %q, want Running, NoQuorum or Finished", e.ServiceGroup, e.Status)
		}
		if !slices.IsSorted(e.Votes) || len(slices.Compact(slices.Clone(e.Votes))) != len(e.Votes) {
			return fmt.Errorf("rumor: election of %s has unsorted or repeated votes", e.ServiceGroup)
		}
	default:
		return fmt.Errorf("rumor: unknown kind %q", r.Kind)
	}
	return nil
}

// MaxFilename is the longest file name a file rumor may carry, in bytes:
// the longest a Linux file system takes (NAME_MAX).
const MaxFilename = 255

// CheckFilename accepts the name of a file pushed with `file upload`: a
// plain base name that a file system takes and a log line shows on one
// line. Anything else could escape the service's files directory or be
// refused by every member only once gossiped.
func CheckFilename(f string) error {
	switch {
	case f == "" || f == "." || f == "..":
		return fmt.Errorf("file name %q is not a base name", f)
	case len(f) > MaxFilename:
		return fmt.Errorf("file name is %d bytes long, at most %d allowed", len(f), MaxFilename)
	case strings.ContainsAny(f, "/\\"):
		return fmt.Errorf("file name %q is not a base name", f)
	case strings.ContainsFunc(f, unicode.IsControl):
		return fmt.Errorf("file name %q contains a control character (newline, NUL, ...)", f)
	case !utf8.ValidString(f):
		return fmt.Errorf("file name %q is not UTF-8", f)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// id refuses empty ids and ids that would make keys ambiguous.
func id(what, s string) error {
	if s == "" {
		return fmt.Errorf("rumor: empty %s", what)
	}
	if strings.ContainsAny(s, "/\x00") {
		return fmt.Errorf("rumor: %s %q contains '/' or NUL", what, s)
	}
	// JSON carries text: a peer decodes a byte that is not UTF-8 as
	// U+FFFD, and would file the rumor under another key than its origin
	// did, so their digests would never agree.
	if !utf8.ValidString(s) {
		return fmt.Errorf("rumor: %s %q is not UTF-8", what, s)
	}
	return nil
}

// entry is a stored rumor: a private decoded copy, its canonical JSON,
// and the hashes of its key and JSON that every member computes alike
// (the push/pull digest: digest.go; dig.Enc also keys Store.held).
type entry struct {
	r   Rumor
	enc []byte
	dig DigestItem
}

// Store holds the newest rumor of each key. It is safe for concurrent use.
//
// Merge rules (Habitat's butterfly): a higher incarnation replaces, a
// lower one is ignored, a departure is permanent. Two different rumors
// with the same key and incarnation (two members originating the same
// version) are resolved by the larger canonical JSON encoding so every
// member converges on the same one; Habitat would keep whichever arrived
// first.
//
// Every member stores the same canonical bytes for a rumor, whatever form
// it arrived in: the encoding of its decoded value (canonical).
type Store struct {
	mu   sync.RWMutex
	m    map[string]entry
	dept map[string]bool
	// held maps the hash of each stored encoding to its key. Most rumors
	// a member receives (gossip that reached it by another path first,
	// whole stores from older tends' push/pulls) are byte for byte what
	// it holds already; they are recognised by hash and compared, without
	// being decoded.
	held map[uint64]string
	// total is the whole-store digest hash: the sum of every entry's
	// mixed digest item (digest.go), kept as entries come and go.
	total uint64
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{m: map[string]entry{}, dept: map[string]bool{}, held: map[uint64]string{}}
}

// canonical returns a private copy of r and its canonical encoding: the
// encoding of r decoded, decoded. The decode matters: integers in Cfg come
// back as int64 and whole floats too (numbers.go), a huge uint64 as a
// float64, and the canonical form must be what every member decodes and
// encodes again: stored bytes are a fixed point of decode then encode.
func canonical(r Rumor) (entry, error) {
	key := r.Key()
	b, err := json.Marshal(r)
	if err != nil {
		return entry{}, fmt.Errorf("rumor: encode %s: %w", key, err)
	}
	var c Rumor
	if err := json.Unmarshal(b, &c); err != nil {
		return entry{}, fmt.Errorf("rumor: decode %s: %w", key, err)
	}
	return canonicalOf(c, b, key)
}

// canonicalOf is canonical for c, freshly decoded from b (so private).
// When b is canonical already (every rumor a member sends is: the bytes it
// stores), encoding c gives b back, and that is all: one encode. Other
// forms (another spelling of a number, spaces, escapes, a whole float in
// Cfg) are decoded once more from their re-encoding.
func canonicalOf(c Rumor, b []byte, key string) (entry, error) {
	enc, err := json.Marshal(c)
	if err != nil {
		return entry{}, fmt.Errorf("rumor: encode %s: %w", key, err)
	}
	if !bytes.Equal(enc, b) {
		c = Rumor{}
		if err := json.Unmarshal(enc, &c); err != nil {
			return entry{}, fmt.Errorf("rumor: decode %s: %w", key, err)
		}
		if enc, err = json.Marshal(c); err != nil {
			return entry{}, fmt.Errorf("rumor: encode %s: %w", key, err)
		}
	}
	return entry{r: c, enc: enc}, nil
}

// newer reports whether e should replace old.
func newer(e, old entry) bool {
	if e.r.Kind == KindDeparture {
		return false // permanent: the first one stays
	}
	ni, oi := e.r.Incarnation(), old.r.Incarnation()
	if ni != oi {
		return ni > oi
	}
	return bytes.Compare(e.enc, old.enc) > 0
}

// stale reports, before any encoding, whether r cannot replace old: a
// second departure, or a lower incarnation. Elections merge instead.
func stale(r Rumor, old entry) bool {
	if r.IsElection() {
		return false
	}
	return r.Kind == KindDeparture || r.Incarnation() < old.r.Incarnation()
}

// Merge adds r if it is valid and newer than what the store holds for its
// key, and reports whether the store changed.
func (s *Store) Merge(r Rumor) (changed bool) {
	changed, _ = s.mergeIf(r, false)
	return changed
}

func (s *Store) mergeIf(r Rumor, check bool) (bool, error) {
	if err := r.Validate(); err != nil {
		return false, err
	}
	e, err := canonical(r)
	if err != nil {
		return false, err
	}
	key := r.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	if check {
		if err := s.checkLocked(r); err != nil {
			return false, err
		}
	}
	return s.putLocked(key, e)
}

// putLocked stores e under key if it wins over what is held.
func (s *Store) putLocked(key string, e entry) (bool, error) {
	if e.r.IsElection() && s.dept[e.r.Election.MemberID] {
		// A departed member cannot lead. Until it learns of its
		// departure it still votes, and its candidacy can win a term on
		// member id and finish it; taken in, that term names a leader
		// that is gone, and the group needs one more.
		return false, nil
	}
	old, ok := s.m[key]
	if ok && e.r.IsElection() {
		// Elections merge into a new value (votes are pooled), not
		// replace by version.
		var err error
		if e, err = canonical(Rumor{Kind: e.r.Kind, Election: MergeElection(old.r.Election, e.r.Election)}); err != nil {
			return false, err
		}
		if bytes.Equal(e.enc, old.enc) {
			return false, nil
		}
	} else if ok && !newer(e, old) {
		return false, nil
	}
	if ok && s.held[old.dig.Enc] == key {
		delete(s.held, old.dig.Enc)
	}
	if ok {
		s.total -= old.dig.mix()
	}
	if e.dig.Enc == 0 {
		e.dig = digestItem(key, e.enc)
	} else {
		// mergeJSON hashed the bytes already (to look them up in held).
		e.dig.Key = keyHash(key)
	}
	s.total += e.dig.mix()
	s.held[e.dig.Enc] = key
	s.m[key] = e
	if e.r.Kind == KindDeparture {
		s.dept[e.r.Departure.MemberID] = true
	}
	return true, nil
}

// Merged is what the store holds under a rumor's key after merging it.
type Merged struct {
	Key     string
	Kind    Kind   // "" when b did not decode
	Rumor   Rumor  // a copy, as Get returns it
	Enc     []byte // its canonical JSON; shared, must not be modified
	Changed bool
}

// MergeJSON merges one rumor in JSON form (a gossip message, an element
// of a push/pull state). A rumor held byte for byte is recognised without
// being decoded; a stale one is dropped once decoded, before any encoding.
func (s *Store) MergeJSON(b []byte) (Merged, error) {
	h, key, kind, changed, err := s.mergeJSON(b, true, Rumor{})
	if err != nil || h.enc == nil {
		return Merged{Key: key, Kind: kind}, err
	}
	return Merged{Key: key, Kind: kind, Rumor: out(h.r), Enc: h.enc, Changed: changed}, nil
}

// mergeJSON returns what is held under the rumor's key after the merge
// (zero when nothing is), the key and kind ("" when b did not decode).
// heads false skips the look at the rumor's head for a stale one, which
// can only pay when the store may hold its key already; a stale rumor is
// still dropped once decoded. pre, when its Kind is set, is what
// fastDecode read from b already (splitState).
//
// A rumor in its canonical encoding (what every member sends) is read by
// fastDecode, its head and all at once, and is its own canonical form;
// any other is read by encoding/json, its head first, and encoded again
// (canonicalOf).
func (s *Store) mergeJSON(b []byte, heads bool, pre Rumor) (held entry, key string, kind Kind, changed bool, err error) {
	sum := encHash(b)
	s.mu.RLock()
	if key, ok := s.held[sum]; ok {
		if e := s.m[key]; bytes.Equal(e.enc, b) {
			s.mu.RUnlock()
			return e, key, e.r.Kind, false, nil
		}
	}
	s.mu.RUnlock()
	r, fast := pre, pre.Kind != ""
	if !fast {
		r, fast = fastDecode(b)
	}
	if heads {
		var h entry
		var ok bool
		if fast {
			h, ok = s.staleHeld(r)
		} else {
			h, ok = s.staleHead(b)
		}
		if ok {
			return h, h.r.Key(), h.r.Kind, false, nil
		}
	}
	if !fast {
		if err := json.Unmarshal(b, &r); err != nil {
			return entry{}, "", "", false, err
		}
	}
	if err := r.Validate(); err != nil {
		return entry{}, "", r.Kind, false, err
	}
	key = r.Key()
	s.mu.RLock()
	old, ok := s.m[key]
	s.mu.RUnlock()
	if ok && stale(r, old) {
		return old, key, r.Kind, false, nil
	}
	var e entry
	if fast {
		e = entry{r: r, enc: bytes.Clone(b)} // b may be reused: a gossip message's buffer
	} else if e, err = canonicalOf(r, b, key); err != nil {
		return entry{}, key, r.Kind, false, err
	}
	if bytes.Equal(e.enc, b) {
		e.dig.Enc = sum
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if changed, err = s.putLocked(key, e); err != nil {
		return entry{}, key, r.Kind, false, err
	}
	return s.m[key], key, r.Kind, changed, nil
}

// Check is for local origination: it refuses an invalid rumor, and a config
// or file whose version is not higher than the one held.
func (s *Store) Check(r Rumor) error {
	if err := r.Validate(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.checkLocked(r)
}

func (s *Store) checkLocked(r Rumor) error {
	if r.Kind != KindConfig && r.Kind != KindFile {
		return nil
	}
	if old, ok := s.m[r.Key()]; ok && r.Incarnation() <= old.r.Incarnation() {
		return fmt.Errorf("version %d is not higher than %d", r.Incarnation(), old.r.Incarnation())
	}
	return nil
}

// MergeChecked is Check and Merge in one step, so two concurrent local
// originations of the same version cannot both succeed.
func (s *Store) MergeChecked(r Rumor) (changed bool, err error) {
	return s.mergeIf(r, true)
}

// out returns a copy of a stored rumor whose payload struct the caller may
// change; byte slices and Cfg maps are shared and must not be modified.
func out(r Rumor) Rumor {
	switch {
	case r.Service != nil:
		v := *r.Service
		r.Service = &v
	case r.Config != nil:
		v := *r.Config
		r.Config = &v
	case r.File != nil:
		v := *r.File
		r.File = &v
	case r.Departure != nil:
		v := *r.Departure
		r.Departure = &v
	case r.Election != nil:
		r.Election = r.Election.Clone()
	case r.Update != nil:
		v := *r.Update
		r.Update = &v
	}
	return r
}

// All returns every rumor, sorted by key.
func (s *Store) All() []Rumor { return s.all(out) }

// Shared is All without the copies: each payload is the store's own,
// which it never changes (a newer rumor replaces it whole), and which the
// caller must not change either. The census fold reads every rumor and
// keeps what it reads until the next fold: copies were a second set of
// every service's rumor, held.
func (s *Store) Shared() []Rumor { return s.all(func(r Rumor) Rumor { return r }) }

func (s *Store) all(each func(Rumor) Rumor) []Rumor {
	s.mu.RLock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rs := make([]Rumor, len(keys))
	for i, k := range keys {
		rs[i] = each(s.m[k].r)
	}
	s.mu.RUnlock()
	return rs
}

// Len is the number of rumors held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Get returns the rumor held under key.
func (s *Store) Get(key string) (Rumor, bool) {
	s.mu.RLock()
	e, ok := s.m[key]
	s.mu.RUnlock()
	if !ok {
		return Rumor{}, false
	}
	return out(e.r), true
}

// Departed reports whether a departure rumor names memberID.
func (s *Store) Departed(memberID string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dept[memberID]
}

// DepartedMembers lists the members departure rumors name, unsorted.
func (s *Store) DepartedMembers() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.dept))
	for id := range s.dept {
		out = append(out, id)
	}
	return out
}

// encoded is the wire and disk form of a store.
type encoded struct {
	Version int               `json:"version"`
	Rumors  []json.RawMessage `json:"rumors"`
}

const encodingVersion = 1

// Encode returns every rumor, sorted by key, as one JSON document: the
// bytes json.Marshal makes of an encoded value, written out directly (the
// stored encodings are compact JSON already; Marshal would scan and copy
// each again).
func (s *Store) Encode() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]string, 0, len(s.m))
	size := len(encodedHead) + len(encodedTail)
	for k, e := range s.m {
		keys = append(keys, k)
		size += len(e.enc) + 1
	}
	return s.encodeLocked(keys, size), nil
}

// encodeLocked writes the rumors of keys, sorted by key, as Encode writes
// a store; size is the length it comes to. s.mu is held.
func (s *Store) encodeLocked(keys []string, size int) []byte {
	sort.Strings(keys)
	b := make([]byte, 0, size)
	b = append(b, encodedHead...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s.m[k].enc...)
	}
	return append(b, encodedTail...)
}

const (
	encodedHead = `{"version":1,"rumors":[`
	encodedTail = `]}`
)

// MergeEncoded merges every valid rumor of a document made by Encode. A
// document that does not decode changes nothing; invalid rumors inside a
// good document are skipped and reported in the error after the valid
// ones are merged.
func (s *Store) MergeEncoded(b []byte) (changed bool, err error) {
	err = s.mergeState(b, func(entry, string) { changed = true })
	return changed, err
}

// MergeState is MergeEncoded returning what changed: for each rumor that
// replaced or joined what the store held, what it holds now.
func (s *Store) MergeState(b []byte) ([]Merged, error) {
	var ms []Merged
	err := s.mergeState(b, func(h entry, key string) {
		ms = append(ms, Merged{Key: key, Kind: h.r.Kind, Rumor: out(h.r), Enc: h.enc, Changed: true})
	})
	return ms, err
}

func (s *Store) mergeState(b []byte, changed func(held entry, key string)) error {
	// Into an empty store (a supervisor reading its persisted rumors back
	// before it starts anything) no rumor of the document can be held or
	// stale but against another of it, which Encode never writes: each is
	// decoded once, not its head first (docs/BENCHMARKS.md, session 11),
	// and not checked as JSON before (mergeDecoded).
	fresh := s.Len() == 0
	if fresh {
		if res, ok := fastState(b); ok {
			return s.mergeDecoded(res, changed)
		}
	}
	var doc encoded
	var pre []Rumor
	if doc.Rumors, pre = s.splitState(b, !fresh); doc.Rumors == nil {
		if err := json.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("rumor: decode store: %w", err)
		}
		if doc.Version != encodingVersion {
			return fmt.Errorf("rumor: store encoding version %d, want %d", doc.Version, encodingVersion)
		}
	} else if fresh {
		return s.mergeDecoded(decodeAll(doc.Rumors), changed)
	}
	var bad []error
	for i, raw := range doc.Rumors {
		var r Rumor
		if pre != nil {
			r = pre[i]
		}
		h, key, _, c, err := s.mergeJSON(raw, !fresh, r)
		if err != nil {
			bad = append(bad, fmt.Errorf("rumor %d: %w", i, err))
		}
		if c {
			changed(h, key)
		}
	}
	return skipped(bad, len(doc.Rumors))
}

func skipped(bad []error, of int) error {
	if len(bad) > 0 {
		return fmt.Errorf("rumor: %d of %d rumors skipped: %w", len(bad), of, bad[0])
	}
	return nil
}

// mergeDecoded merges the rumors of a document read into an empty store
// (fastState, or splitState and decodeAll) without checking them first:
// each was decoded (which checks it) before any is merged, so a document
// that does not decode still changes nothing, and the store is locked
// once, not once a rumor. A rumor that decodes but is not valid is
// skipped and reported, as mergeJSON does.
func (s *Store) mergeDecoded(res []decoded, changed func(held entry, key string)) error {
	var bad []error
	for i, d := range res {
		if d.syntax {
			return fmt.Errorf("rumor: decode store: rumor %d: %w", i, d.err)
		}
		if d.err != nil {
			bad = append(bad, fmt.Errorf("rumor %d: %w", i, d.err))
		}
	}
	held := make([]decoded, 0, len(res))
	s.mu.Lock()
	if len(s.m) == 0 {
		// Sized once, not grown and rehashed rumor by rumor.
		s.m, s.held = make(map[string]entry, len(res)), make(map[uint64]string, len(res))
	}
	for _, d := range res {
		if d.err != nil {
			continue
		}
		c, err := s.putLocked(d.key, d.e)
		if err != nil {
			bad = append(bad, fmt.Errorf("rumor %s: %w", d.key, err))
		}
		if c {
			held = append(held, decoded{key: d.key, e: s.m[d.key]})
		}
	}
	s.mu.Unlock()
	for _, h := range held {
		changed(h.e, h.key)
	}
	return skipped(bad, len(res))
}

// decoded is one rumor of a document as decodeAll decoded it: its key and
// canonical entry, or why not (syntax: it is not JSON).
type decoded struct {
	key    string
	e      entry
	err    error
	syntax bool
}

// decodeWorkers bounds the goroutines decodeAll uses; decodeBatch is the
// fewest rumors worth a goroutine of their own.
const decodeWorkers, decodeBatch = 4, 64

// decodeAll decodes, validates and canonicalises every rumor, in order;
// it returns once all are done. A long document is decoded by a few
// goroutines side by side: one whose rumors are not all in their
// canonical encodings (fastState reads those) costs encoding/json ~18 µs
// a rumor, and a supervisor restarting over 500 services waits for its
// rumors before it starts any. A rumor in its canonical encoding is
// decoded by fastDecode and kept as it is; any other (the file may come
// from an older tend, whose encoding of a rumor may not be this one's,
// and members compare the stored bytes by hash) is decoded by
// encoding/json and encoded again (canonicalOf).
func decodeAll(rumors []json.RawMessage) []decoded {
	res := make([]decoded, len(rumors))
	one := func(i int) {
		d := &res[i]
		r, fast := fastDecode(rumors[i])
		if !fast {
			if d.err = json.Unmarshal(rumors[i], &r); d.err != nil {
				se := (*json.SyntaxError)(nil)
				d.syntax = errors.As(d.err, &se)
				return
			}
		}
		if d.err = r.Validate(); d.err != nil {
			return
		}
		d.key = r.Key()
		if fast {
			// Canonical as it is; a copy, as the caller's b may be reused.
			d.e = entry{r: r, enc: bytes.Clone(rumors[i])}
			return
		}
		d.e, d.err = canonicalOf(r, rumors[i], d.key)
	}
	workers := min(runtime.GOMAXPROCS(0), decodeWorkers, len(rumors)/decodeBatch)
	if workers <= 1 {
		for i := range rumors {
			one(i)
		}
		return res
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(rumors); i = int(next.Add(1) - 1) {
				one(i)
			}
		})
	}
	wg.Wait()
	return res
}

// splitState returns the rumors of a document written as Encode writes it
// (every member's push/pull state), without decoding it: json.Unmarshal
// scanned a 50-member state twice and copied every rumor, most of the cost
// of merging a state that is held already. It returns nil when b is not of
// that shape, or, when check is set, not valid JSON; the caller then
// decodes it in full and reports what is wrong. With check each rumor is
// checked (a held one by comparison with what is held), so a document
// that does not decode still changes nothing; without it the caller
// decodes every rumor before it merges any (mergeDecoded). A rumor not
// held that fastDecode reads is valid JSON, and is returned decoded in
// pre (same index; the zero Rumor for the others, and pre nil without
// check or when all are held), so that it is not decoded twice.
func (s *Store) splitState(b []byte, check bool) (rumors []json.RawMessage, pre []Rumor) {
	if !bytes.HasPrefix(b, []byte(encodedHead)) || !bytes.HasSuffix(b, []byte(encodedTail)) || len(b) < len(encodedHead)+len(encodedTail) {
		return nil, nil
	}
	body := b[len(encodedHead) : len(b)-len(encodedTail)]
	out := []json.RawMessage{}
	for len(body) > 0 {
		end := objectEnd(body)
		if end < 0 || (end < len(body) && body[end] != ',') || end == len(body)-1 {
			return nil, nil
		}
		out = append(out, body[:end:end])
		body = body[min(end+1, len(body)):]
	}
	if !check {
		return out, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, r := range out {
		if key, ok := s.held[encHash(r)]; ok && bytes.Equal(s.m[key].enc, r) {
			continue
		}
		if pre == nil {
			pre = make([]Rumor, len(out))
		}
		var fast bool
		if pre[i], fast = fastDecode(r); !fast && !json.Valid(r) {
			return nil, nil
		}
	}
	return out, pre
}

// objectEnd returns the length of the JSON object b starts with, or -1:
// brackets are counted outside strings, which end at an unescaped quote.
// It does not validate; a wrong cut makes a piece that is not valid JSON.
func objectEnd(b []byte) int {
	if len(b) == 0 || b[0] != '{' {
		return -1
	}
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// head is what names a rumor and its version, decoded without the rest
// (a service's Cfg above all, the costly part of decoding one).
type head struct {
	Kind    Kind `json:"kind"`
	Service *struct {
		MemberID     string `json:"member_id"`
		ServiceGroup string `json:"service_group"`
		Incarnation  uint64 `json:"incarnation"`
	} `json:"service"`
	Config *struct {
		ServiceGroup string `json:"service_group"`
		Incarnation  uint64 `json:"incarnation"`
	} `json:"config"`
	File *struct {
		ServiceGroup string `json:"service_group"`
		Filename     string `json:"filename"`
		Incarnation  uint64 `json:"incarnation"`
	} `json:"file"`
	Departure *Departure `json:"departure"`
	Update    *struct {
		ServiceGroup string `json:"service_group"`
		Incarnation  uint64 `json:"incarnation"`
	} `json:"update"`
}

// staleHead returns what is held when rumor b is stale (a departure held
// already, or a lower incarnation than the one held) as its head tells,
// without decoding the rest: a lagging member's push/pull state is mostly
// such rumors. A stale rumor is dropped unvalidated; it could not change
// anything.
func (s *Store) staleHead(b []byte) (entry, bool) {
	var h head
	if json.Unmarshal(b, &h) != nil {
		return entry{}, false
	}
	r := Rumor{Kind: h.Kind, Departure: h.Departure}
	switch {
	case h.Service != nil:
		r.Service = &Service{MemberID: h.Service.MemberID, ServiceGroup: h.Service.ServiceGroup, Incarnation: h.Service.Incarnation}
	case h.Config != nil:
		r.Config = &Config{ServiceGroup: h.Config.ServiceGroup, Incarnation: h.Config.Incarnation}
	case h.File != nil:
		r.File = &File{ServiceGroup: h.File.ServiceGroup, Filename: h.File.Filename, Incarnation: h.File.Incarnation}
	case h.Update != nil:
		r.Update = &Update{ServiceGroup: h.Update.ServiceGroup, Incarnation: h.Update.Incarnation}
	}
	return s.staleHeld(r)
}

// staleHeld is staleHead for a rumor decoded: what is held when r is
// stale, as its kind, key and incarnation tell.
func (s *Store) staleHeld(r Rumor) (entry, bool) {
	key := r.Key()
	if key == "" || r.IsElection() {
		return entry{}, false
	}
	s.mu.RLock()
	old, ok := s.m[key]
	s.mu.RUnlock()
	if !ok || old.r.Kind != r.Kind || !stale(r, old) {
		return entry{}, false
	}
	return old, true
}
