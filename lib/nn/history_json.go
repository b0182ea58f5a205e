package nn

import (
	"encoding/json"
	"math"
)

// epochStatsJSON is EpochStats with the numbers that may be missing as
// pointers: JSON has no NaN, so a missing value is null.
type epochStatsJSON struct {
	Epoch         int      `json:"epoch"`
	TrainLoss     *float64 `json:"train_loss"`
	ValLoss       *float64 `json:"val_loss"`
	TrainAccuracy *float64 `json:"train_accuracy"`
	ValAccuracy   *float64 `json:"val_accuracy"`
	Seconds       float64  `json:"seconds"`
}

// MarshalJSON writes NaN (no validation data, accuracies of a regression) as
// null.
func (s EpochStats) MarshalJSON() ([]byte, error) {
	orNull := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	return json.Marshal(epochStatsJSON{Epoch: s.Epoch, TrainLoss: orNull(s.TrainLoss), ValLoss: orNull(s.ValLoss),
		TrainAccuracy: orNull(s.TrainAccuracy), ValAccuracy: orNull(s.ValAccuracy), Seconds: s.Seconds})
}

// UnmarshalJSON reads null back as NaN.
func (s *EpochStats) UnmarshalJSON(raw []byte) error {
	var j epochStatsJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return err
	}
	orNaN := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	*s = EpochStats{Epoch: j.Epoch, TrainLoss: orNaN(j.TrainLoss), ValLoss: orNaN(j.ValLoss),
		TrainAccuracy: orNaN(j.TrainAccuracy), ValAccuracy: orNaN(j.ValAccuracy), Seconds: j.Seconds}
	return nil
}

// Snapshot is a model's predictions at the end of an epoch.
type Snapshot struct {
	// Epoch is the epoch just trained (from 1).
	Epoch int `json:"epoch"`
	// Predictions are the model's outputs over SnapshotEvery's inputs.
	Predictions []float64 `json:"predictions"`
}

// SnapshotEvery returns a callback that appends to *into the model's
// predictions over inputs every `every` epochs (the seed's regression GIF
// takes one every 5 epochs of the last fold).
func SnapshotEvery(every int, inputs *Data, into *[]Snapshot) Callback {
	return func(m *Model, s EpochStats) error {
		if every <= 0 || s.Epoch%every != 0 {
			return nil
		}
		p, err := m.Predict(inputs)
		if err != nil {
			return err
		}
		*into = append(*into, Snapshot{Epoch: s.Epoch, Predictions: p})
		return nil
	}
}
