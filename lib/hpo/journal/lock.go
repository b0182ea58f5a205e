package journal

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// optunaLock is the lock that Optuna's JournalFileBackend takes by default around every append
// (JournalFileSymlinkLock): a writer creates the symbolic link <journal>.lock, which fails
// while another holds it, and removes it when done by renaming it to
// <journal>.lock<uuid>.rename and unlinking that. A Python Optuna worker and hw1 workers on one
// journal exclude each other through it; hw1 workers also hold the journal's flock, which
// readers share.
//
// A stale lock is treated as Optuna treats it: while waiting, the waiter watches the mtime of
// what the link resolves to (the journal itself, for a link that Optuna made from the path it
// was given; the link's own mtime when that does not resolve), and once it has not changed
// for 30 seconds (Optuna's grace_period) the lock is forcibly released. hw1 adds one rule of
// its own for links that hw1 made: every hw1 writer holds the journal's flock, exclusively,
// for as long as it holds the link, and a waiter takes the flock before the link; so a link of
// hw1's found by a waiter that holds the flock was left by a process that died holding it, and
// is removed at once. hw1's links point to the journal's absolute path with "/./" before its
// name: the same file for Optuna's mtime check, yet told apart from Optuna's. An hw1 writer
// that finds the lock taken lets go of the flock while it waits (lockJournal), so that hw1's
// readers are not held up by an Optuna writer, nor by a stale lock for its grace period.
type optunaLock struct {
	path   string // <journal>.lock
	target string // what hw1's links point to
	grace  time.Duration
	warn   io.Writer
	// held is true between a successful try and release.
	held bool
}

// optunaLockGrace is JournalFileSymlinkLock's default grace_period (a variable for tests).
var optunaLockGrace = 30 * time.Second

func newOptunaLock(journal string, warn io.Writer) (*optunaLock, error) {
	abs, err := filepath.Abs(journal)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", journal, err)
	}
	dir, base := filepath.Split(abs)
	return &optunaLock{path: journal + ".lock", target: dir + "." + string(filepath.Separator) + base,
		grace: optunaLockGrace, warn: warn}, nil
}

// try takes the lock if it is free. The caller holds the journal's flock exclusively, so a
// link of hw1's found here was left by a process that died holding it: it is removed and the
// lock taken.
func (l *optunaLock) try() (bool, error) {
	for {
		err := os.Symlink(l.target, l.path)
		if err == nil {
			l.held = true
			return true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("journal lock %s: %w", l.path, err)
		}
		target, err := os.Readlink(l.path)
		if err != nil || target != l.target {
			return false, nil // Optuna's, or gone meanwhile: wait
		}
		fmt.Fprintf(l.warn, "hpo: journal lock %s was left by an hw1 process that died holding it; removing it\n", l.path)
		l.remove()
	}
}

// lockWait is a wait for a lock held by another process (an Optuna worker), with Optuna's
// back-off (1 ms doubling to 1 s) and its rule for a stale lock: the mtime of what the link
// resolves to has not changed for the grace period.
type lockWait struct {
	started                bool
	sleep                  time.Duration
	mtime                  time.Time
	lastChange, lastWarned time.Time
}

// wait sleeps once, or forcibly releases the lock if it is stale. The caller holds no lock.
func (w *lockWait) wait(l *optunaLock) {
	now := time.Now()
	if !w.started {
		w.started, w.sleep, w.lastChange, w.lastWarned = true, time.Millisecond, now, now
	}
	if now.Sub(w.lastWarned) > 10*time.Second {
		fmt.Fprintf(l.warn, "hpo: journal lock %s: waiting for more than 10 s (an Optuna process holds it); retrying\n", l.path)
		w.lastWarned = now
	}
	st, err := os.Stat(l.path)
	if err != nil {
		st, err = os.Lstat(l.path) // a link that does not resolve: its own time
	}
	if err == nil {
		if !st.ModTime().Equal(w.mtime) {
			w.mtime, w.lastChange = st.ModTime(), now
		}
		if now.Sub(w.lastChange) > l.grace {
			fmt.Fprintf(l.warn, "hpo: journal lock %s has not been released for %v; forcibly releasing it, as Optuna does\n", l.path, l.grace)
			l.remove()
			w.lastWarned, w.sleep = now, time.Millisecond
			return
		}
	}
	time.Sleep(w.sleep)
	w.sleep = min(2*w.sleep, time.Second)
}

// release removes the link. A link already gone was forcibly released by a waiter that
// thought it stale: the append is done, so that is only said.
func (l *optunaLock) release() {
	if !l.held {
		return
	}
	l.held = false
	if !l.remove() {
		fmt.Fprintf(l.warn, "hpo: journal lock %s was removed by another process while this one held it\n", l.path)
	}
}

// remove renames the link away and unlinks it, as Optuna's release does, so that two processes
// releasing at once cannot remove a third one's new link.
func (l *optunaLock) remove() bool {
	var id [16]byte
	rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	tmp := fmt.Sprintf("%s%x-%x-%x-%x-%x.rename", l.path, id[0:4], id[4:6], id[6:8], id[8:10], id[10:])
	if err := os.Rename(l.path, tmp); err != nil {
		return false
	}
	os.Remove(tmp)
	return true
}
