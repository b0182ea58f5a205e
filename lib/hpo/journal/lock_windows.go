//go:build windows

package journal

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the byte lock lies: far past any journal's end. Windows'
// locks are mandatory for the bytes they cover, so a lock on the journal's
// own bytes would stop Optuna's readers; one past the end only excludes
// other lockers, as flock does.
const lockOffset = 1 << 62

// flock takes f's lock, shared or exclusive, waiting for it.
func flock(f *os.File, how lockKind) error {
	var flags uint32
	if how == lockExclusive {
		flags = windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	ol := &windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	if err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, ol); err != nil {
		return fmt.Errorf("LockFileEx: %w", err)
	}
	return nil
}

// funlock releases f's lock.
func funlock(f *os.File) {
	ol := &windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}

// processAlive says whether a process of this host with that pid is running.
func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		// Access denied means it exists; anything else, that it does not.
		return err == windows.ERROR_ACCESS_DENIED
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	const stillActive = 259
	return code == stillActive
}
