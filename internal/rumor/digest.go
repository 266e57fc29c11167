package rumor

import "hash/fnv"

// A push/pull used to carry the whole store both ways: ~600 B a member,
// 120 kB at 200 members, compressed, decompressed, split and compared by
// both sides of every join and exchange. Now each side sends a digest,
// 16 B a rumor, and then only the rumors the other lacks (internal/ring).
//
// The digest names each rumor by hashes every member computes alike: the
// FNV-64a hash of its key and of its canonical JSON (the bytes every
// member stores for the same rumor); the second also keys Store.held,
// which recognises a rumor held byte for byte.

// DigestItem names one stored rumor: the hashes of its key and of its
// canonical encoding.
type DigestItem struct{ Key, Enc uint64 }

func digestItem(key string, enc []byte) DigestItem {
	return DigestItem{Key: keyHash(key), Enc: encHash(enc)}
}

// keyHash is the hash of a rumor's key: its digest item's Key.
func keyHash(key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return h.Sum64()
}

// encHash is the hash of a rumor's canonical encoding: its digest item's
// Enc, and how Store.held recognises a rumor it holds byte for byte.
func encHash(enc []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(enc)
	return h.Sum64()
}

// mix is the item's share of the whole-store hash, a sum over the items
// (so it is kept as entries come and go, in any order): the two hashes
// through splitmix64's finaliser, so that items do not cancel out.
func (d DigestItem) mix() uint64 {
	x := d.Key*0x9e3779b97f4a7c15 ^ d.Enc
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Sum is the whole-store hash: two stores holding the same rumors have the
// same sum, whatever order they learned them in.
func (s *Store) Sum() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.total
}

// Digest returns the whole-store hash and an item for every rumor held.
func (s *Store) Digest() (sum uint64, items []DigestItem) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items = make([]DigestItem, 0, len(s.m))
	for _, e := range s.m {
		items = append(items, e.dig)
	}
	return s.total, items
}

// EncodeLacking returns, in the form Encode writes (MergeState reads it),
// every rumor held whose key the peer's digest items do not name or whose
// encoding differs from the peer's, sorted by key, and how many there
// are; nil and 0 when there is none. Where the two differ, the peer
// decides by its merge which one it keeps: the newer, or for an election
// the two pooled.
func (s *Store) EncodeLacking(peer []DigestItem) ([]byte, int) {
	has := make(map[uint64]uint64, len(peer))
	for _, d := range peer {
		has[d.Key] = d.Enc
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var keys []string
	size := len(encodedHead) + len(encodedTail)
	for k, e := range s.m {
		if enc, ok := has[e.dig.Key]; ok && enc == e.dig.Enc {
			continue
		}
		keys = append(keys, k)
		size += len(e.enc) + 1
	}
	if len(keys) == 0 {
		return nil, 0
	}
	return s.encodeLocked(keys, size), len(keys)
}
