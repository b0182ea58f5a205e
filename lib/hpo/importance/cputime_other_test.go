//go:build !unix

package importance

import "time"

// processCPUTime is not measured off Unix; benchmarks then report 0 cpu-ms/op.
func processCPUTime() time.Duration { return 0 }
