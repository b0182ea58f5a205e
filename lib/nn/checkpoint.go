package nn

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/dlworkbench/hw1/internal/atomicfile"
	"github.com/gomlx/compute"
)

// checkpointFormat names the layout of a checkpoint file; Load refuses others.
const checkpointFormat = "hw1-model/1"

// checkpoint is the one JSON file of a saved model.
type checkpoint struct {
	Format          string           `json:"format"`
	Spec            Spec             `json:"spec"`
	Seed            int64            `json:"seed"`
	Hyperparameters *Hyperparameters `json:"hyperparameters,omitempty"`
	History         *History         `json:"history,omitempty"`
	Variables       []savedVariable  `json:"variables"`
}

// savedVariable keeps the exact bits: little-endian IEEE values of the
// model's dtype, base64-encoded.
type savedVariable struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
	Data  string `json:"data"`
}

// Save writes the model (spec, seed, hyperparameters, history and weights) to
// one file, through a temporary file renamed into place.
func (m *Model) Save(path string) error {
	vars, err := m.Variables()
	if err != nil {
		return fmt.Errorf("nn.Save %s: %w", path, err)
	}
	cp := checkpoint{Format: checkpointFormat, Spec: m.Spec, Seed: m.Seed, Hyperparameters: m.Hyperparameters,
		History: m.History}
	for _, v := range vars {
		var raw []byte
		if m.Spec.DType == Float64 {
			raw = make([]byte, 8*len(v.Values))
			for i, x := range v.Values {
				binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
			}
		} else {
			raw = make([]byte, 4*len(v.Values))
			for i, x := range v.Values {
				binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(x)))
			}
		}
		cp.Variables = append(cp.Variables, savedVariable{Name: v.Name, Shape: v.Shape, DType: m.Spec.DType,
			Data: base64.StdEncoding.EncodeToString(raw)})
	}
	buf, err := json.MarshalIndent(cp, "", " ")
	if err != nil {
		return fmt.Errorf("nn.Save %s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, buf); err != nil {
		return fmt.Errorf("nn.Save: %w", err)
	}
	return nil
}

// Load reads a model saved by Save and rebuilds it on the backend; it
// predicts exactly as the saved one did on the same backend.
func Load(path string, backend compute.Backend) (*Model, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nn.Load: %w", err)
	}
	var cp checkpoint
	if err := json.Unmarshal(raw, &cp); err != nil {
		return nil, fmt.Errorf("nn.Load %s: %w", path, err)
	}
	if cp.Format != checkpointFormat {
		return nil, fmt.Errorf("nn.Load %s: format %q, want %q", path, cp.Format, checkpointFormat)
	}
	m, err := New(backend, cp.Spec, cp.Seed)
	if err != nil {
		return nil, fmt.Errorf("nn.Load %s: %w", path, err)
	}
	m.Hyperparameters = cp.Hyperparameters
	m.History = cp.History
	if len(m.names) != len(cp.Variables) {
		return nil, fmt.Errorf("nn.Load %s: %d variables, the %s model has %d", path, len(cp.Variables), cp.Spec.Kind, len(m.names))
	}
	for i, sv := range cp.Variables {
		j := slices.Index(m.names, sv.Name)
		if j < 0 {
			return nil, fmt.Errorf("nn.Load %s: variables[%d]: the %s model has no variable %q", path, i, cp.Spec.Kind, sv.Name)
		}
		want := m.weights[j].Shape().Dimensions
		if !slices.Equal(sv.Shape, want) {
			return nil, fmt.Errorf("nn.Load %s: variables[%d] %q: shape %v, the model's is %v", path, i, sv.Name, sv.Shape, want)
		}
		values, err := decodeValues(sv, m.Spec.DType)
		if err != nil {
			return nil, fmt.Errorf("nn.Load %s: variables[%d] %q: %w", path, i, sv.Name, err)
		}
		m.weights[j] = m.tensorOf(values, want)
	}
	return m, nil
}

func decodeValues(sv savedVariable, dtype string) ([]float64, error) {
	if sv.DType != dtype {
		return nil, fmt.Errorf("dtype %q, model's is %q", sv.DType, dtype)
	}
	raw, err := base64.StdEncoding.DecodeString(sv.Data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	size := 1
	for _, d := range sv.Shape {
		size *= d
	}
	width := 4
	if dtype == Float64 {
		width = 8
	}
	if len(raw) != size*width {
		return nil, fmt.Errorf("data has %d bytes, shape %v of %s needs %d", len(raw), sv.Shape, dtype, size*width)
	}
	out := make([]float64, size)
	for i := range out {
		if width == 8 {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		} else {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
	}
	return out, nil
}
