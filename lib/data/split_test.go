package data

import (
	"slices"
	"strings"
	"testing"
)

func TestPermutationIsSeededPermutation(t *testing.T) {
	a := Permutation(1000, 7)
	if !slices.Equal(a, Permutation(1000, 7)) {
		t.Fatal("same seed, different permutations")
	}
	if slices.Equal(a, Permutation(1000, 8)) {
		t.Fatal("seeds 7 and 8 give the same permutation")
	}
	sorted := slices.Sorted(slices.Values(a))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("not a permutation of 0..999: sorted[%d] = %d", i, v)
		}
	}
	fixed := 0
	for i, v := range a {
		if i == v {
			fixed++
		}
	}
	// A uniform permutation has one fixed point on average; many would mean
	// the shuffle barely moved anything.
	if fixed > 10 {
		t.Errorf("%d fixed points in a shuffle of 1000", fixed)
	}
}

// TestPermutationPinned pins the documented algorithm: if this changes, every
// split of the project changes with it, and published results stop being
// reproducible. Regenerate only on purpose, by printing Permutation(10, 42).
func TestPermutationPinned(t *testing.T) {
	got := Permutation(10, 42)
	want := []int{5, 7, 2, 9, 3, 6, 8, 1, 0, 4}
	if !slices.Equal(got, want) {
		t.Fatalf("Permutation(10, 42) = %v, want %v", got, want)
	}
}

func TestPermutationUniformFirstPosition(t *testing.T) {
	// Over many seeds each value should land first about equally often: a
	// check that the bounded draw is not biased toward low or high values.
	const n, seeds = 5, 5000
	var first [n]int
	for s := range seeds {
		first[Permutation(n, int64(s))[0]]++
	}
	for v, c := range first {
		if c < seeds/n*8/10 || c > seeds/n*12/10 {
			t.Errorf("value %d first in %d of %d shuffles, want about %d", v, c, seeds, seeds/n)
		}
	}
}

func TestKFold(t *testing.T) {
	for _, tc := range []struct{ n, k int }{{100, 5}, {60000, 10}, {7, 3}, {10, 10}, {2, 2}} {
		folds, err := KFold(tc.n, tc.k, 42)
		if err != nil {
			t.Fatalf("n=%d k=%d: %v", tc.n, tc.k, err)
		}
		if len(folds) != tc.k {
			t.Fatalf("n=%d k=%d: %d folds", tc.n, tc.k, len(folds))
		}
		inVal := make([]int, tc.n)
		minSize, maxSize := tc.n, 0
		for i, f := range folds {
			if !slices.IsSorted(f.Val) || !slices.IsSorted(f.Train) {
				t.Errorf("n=%d k=%d fold %d: indices not sorted", tc.n, tc.k, i)
			}
			if len(f.Train)+len(f.Val) != tc.n {
				t.Errorf("n=%d k=%d fold %d: %d train + %d val", tc.n, tc.k, i, len(f.Train), len(f.Val))
			}
			seen := make([]bool, tc.n)
			for _, j := range f.Val {
				inVal[j]++
				seen[j] = true
			}
			for _, j := range f.Train {
				if seen[j] {
					t.Fatalf("n=%d k=%d fold %d: %d both in train and val", tc.n, tc.k, i, j)
				}
				seen[j] = true
			}
			minSize, maxSize = min(minSize, len(f.Val)), max(maxSize, len(f.Val))
		}
		for j, c := range inVal {
			if c != 1 {
				t.Fatalf("n=%d k=%d: sample %d in %d validation folds", tc.n, tc.k, j, c)
			}
		}
		if maxSize-minSize > 1 {
			t.Errorf("n=%d k=%d: fold sizes from %d to %d", tc.n, tc.k, minSize, maxSize)
		}
	}
}

func TestKFoldShuffledAndSeeded(t *testing.T) {
	a, _ := KFold(100, 5, 1)
	b, _ := KFold(100, 5, 1)
	c, _ := KFold(100, 5, 2)
	if !slices.Equal(a[0].Val, b[0].Val) {
		t.Error("same seed, different folds")
	}
	if slices.Equal(a[0].Val, c[0].Val) {
		t.Error("seeds 1 and 2 give the same folds")
	}
	// Unshuffled folds would be 0..19, 20..39, ...
	if a[0].Val[len(a[0].Val)-1]-a[0].Val[0] < 50 {
		t.Errorf("first fold %v looks like a contiguous block, not shuffled", a[0].Val)
	}
}

func TestKFoldBadK(t *testing.T) {
	for _, tc := range []struct {
		n, k int
		want string
	}{{100, 1, "at least 2"}, {100, 0, "at least 2"}, {100, -3, "at least 2"}, {4, 5, "k <= n"}, {0, 2, "k <= n"}} {
		folds, err := KFold(tc.n, tc.k, 0)
		if err == nil || folds != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("KFold(%d, %d): %v, %v; want error saying %q", tc.n, tc.k, len(folds), err, tc.want)
		}
	}
}

func TestHoldout(t *testing.T) {
	train, val, err := Holdout(100, 0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 80 || len(val) != 20 {
		t.Fatalf("%d/%d, want 80/20", len(train), len(val))
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(train), val...)))
	for i, v := range all {
		if v != i {
			t.Fatalf("train and val do not partition 0..99 (sorted[%d] = %d)", i, v)
		}
	}
	train2, val2, _ := Holdout(100, 0.2, 3)
	if !slices.Equal(train, train2) || !slices.Equal(val, val2) {
		t.Error("same seed, different holdout")
	}
	if _, val3, _ := Holdout(100, 0.2, 4); slices.Equal(val, val3) {
		t.Error("seeds 3 and 4 give the same holdout")
	}
	for _, tc := range []struct {
		n int
		f float64
	}{{100, 0}, {100, 1}, {100, -0.2}, {1, 0.5}, {10, 0.01}, {100, 0.999}} {
		if _, _, err := Holdout(tc.n, tc.f, 0); err == nil {
			t.Errorf("Holdout(%d, %v): no error", tc.n, tc.f)
		}
	}
}

func TestStratifiedSubsetFashionShape(t *testing.T) {
	// Fashion-MNIST's training labels are 6000 of each class, shuffled.
	labels := make([]uint8, 60000)
	for i, j := range Permutation(60000, 99) {
		labels[j] = uint8(i % NumClasses)
	}
	train, val, err := StratifiedSubset(labels, 10000, 5000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 10000 || len(val) != 5000 {
		t.Fatalf("%d/%d, want 10000/5000", len(train), len(val))
	}
	var ct, cv [NumClasses]int
	seen := make(map[int]bool)
	for _, i := range train {
		ct[labels[i]]++
		seen[i] = true
	}
	for _, i := range val {
		cv[labels[i]]++
		if seen[i] {
			t.Fatalf("index %d in train and val", i)
		}
	}
	for c := range NumClasses {
		if ct[c] != 1000 || cv[c] != 500 {
			t.Errorf("class %d: %d train, %d val, want 1000, 500", c, ct[c], cv[c])
		}
	}
	if !slices.IsSorted(train) || !slices.IsSorted(val) {
		t.Error("indices not sorted")
	}
	train2, val2, _ := StratifiedSubset(labels, 10000, 5000, 1)
	if !slices.Equal(train, train2) || !slices.Equal(val, val2) {
		t.Error("same seed, different subsets")
	}
	if train3, _, _ := StratifiedSubset(labels, 10000, 5000, 2); slices.Equal(train, train3) {
		t.Error("seeds 1 and 2 give the same subset")
	}
}

func TestStratifiedSubsetUnbalanced(t *testing.T) {
	// 70% class 0, 20% class 1, 10% class 2: a subset of 10 keeps 7/2/1.
	labels := make([]uint8, 100)
	for i := 70; i < 90; i++ {
		labels[i] = 1
	}
	for i := 90; i < 100; i++ {
		labels[i] = 2
	}
	train, val, err := StratifiedSubset(labels, 10, 20, 5)
	if err != nil {
		t.Fatal(err)
	}
	count := func(idx []int) [3]int {
		var c [3]int
		for _, i := range idx {
			c[labels[i]]++
		}
		return c
	}
	if c := count(train); c != [3]int{7, 2, 1} {
		t.Errorf("train classes %v, want [7 2 1]", c)
	}
	if c := count(val); c != [3]int{14, 4, 2} {
		t.Errorf("val classes %v, want [14 4 2]", c)
	}
	// Rounding: 3 of (5, 3, 2) gives 1.5, 0.9, 0.6: largest remainders go to classes 1 and 2.
	small := []uint8{0, 0, 0, 0, 0, 1, 1, 1, 2, 2}
	tr, _, err := StratifiedSubset(small, 3, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var c [3]int
	for _, i := range tr {
		c[small[i]]++
	}
	if c != [3]int{1, 1, 1} || len(tr) != 3 {
		t.Errorf("3 of (5,3,2): %v, want [1 1 1]", c)
	}
}

func TestStratifiedSubsetTooLarge(t *testing.T) {
	labels := make([]uint8, 100)
	for i := range labels {
		labels[i] = uint8(i % 2)
	}
	if _, _, err := StratifiedSubset(labels, 80, 21, 0); err == nil || !strings.Contains(err.Error(), "80 train + 21 validation samples from 100") {
		t.Errorf("subset larger than the data: %v", err)
	}
	if _, _, err := StratifiedSubset(labels, -1, 2, 0); err == nil {
		t.Error("negative size: no error")
	}
	// Three samples, one per class: 1 train + 2 val gives class 0 a quota of
	// one in each part, more than its single sample.
	if _, _, err := StratifiedSubset([]uint8{0, 1, 2}, 1, 2, 0); err == nil || !strings.Contains(err.Error(), "class 0 has 1 samples, needs 1 train + 1 validation") {
		t.Errorf("subset larger than a class allows: %v", err)
	}
}
