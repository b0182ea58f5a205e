package nprand

import "testing"

// TestStreamSeek: moving a stream forward or back lands where drawing would, across twists.
func TestStreamSeek(t *testing.T) {
	ref := New(99)
	var words []uint32
	for i := 0; i < 3000; i++ {
		words = append(words, ref.Uint32())
	}
	r := New(99)
	r.Float64()
	r.IntN(5)
	if r.Words() < 2 {
		t.Fatalf("words drawn %d after a double and an int", r.Words())
	}
	for _, n := range []uint64{0, 1, 623, 624, 625, 1500, 1248, 7, 2999} {
		r.Seek(n)
		if got := r.Uint32(); got != words[n] || r.Words() != n+1 {
			t.Fatalf("seek(%d): word %d (%d drawn), want %d", n, got, r.Words(), words[n])
		}
	}
	a, b := Worker(99, 0), Worker(99, 1)
	if a.Uint32() == b.Uint32() && a.Uint32() == b.Uint32() {
		t.Fatal("worker 1 draws the seed's own stream")
	}
	if c := Worker(99, 0); c.Uint32() != words[0] {
		t.Fatal("worker 0 does not draw RandomState(seed)")
	}
}
