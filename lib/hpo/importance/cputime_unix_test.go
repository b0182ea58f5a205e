//go:build unix

package importance

import (
	"syscall"
	"time"
)

// processCPUTime is the CPU time this process has used (user + system). On a
// shared machine it says more than wall time does about a benchmark's cost.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
