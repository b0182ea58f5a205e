//go:build unix

package journal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// flock takes f's advisory lock, shared or exclusive, waiting for it.
func flock(f *os.File, how lockKind) error {
	op := syscall.LOCK_SH
	if how == lockExclusive {
		op = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), op)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("flock: %w", err)
		}
	}
}

// funlock releases f's lock.
func funlock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// processAlive says whether a process of this host with that pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
