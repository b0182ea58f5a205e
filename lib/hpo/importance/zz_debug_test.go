package importance
import "testing"
func TestZZDebug(t *testing.T) {
	ref := loadReference(t)
	for _, i := range []int{0, 1} {
		s := &ref.Studies[i]
		for seed := int64(0); seed < 10; seed++ {
			f, _ := FANOVA(s.X, s.Y, s.params(), Options{Seed: seed})
			m, _ := MeanDecreaseImpurity(s.X, s.Y, s.params(), Options{Seed: seed})
			t.Logf("%s %d fanova %.3f mdi %.3f", s.Name, seed, f, m)
		}
	}
}
