package nn

// Accuracy is the fraction of predictions equal to the labels.
func Accuracy(predictions, labels []int32) float64 {
	if len(labels) == 0 {
		return 0
	}
	right := 0
	for i, p := range predictions[:min(len(predictions), len(labels))] {
		if p == labels[i] {
			right++
		}
	}
	return float64(right) / float64(len(labels))
}

// ConfusionMatrix counts, for each true label (row) and predicted label
// (column), the examples; labels outside [0, classes) are skipped.
func ConfusionMatrix(predictions, labels []int32, classes int) [][]int {
	m := make([][]int, classes)
	for i := range m {
		m[i] = make([]int, classes)
	}
	for i, p := range predictions {
		l := labels[i]
		if l >= 0 && int(l) < classes && p >= 0 && int(p) < classes {
			m[l][p]++
		}
	}
	return m
}
