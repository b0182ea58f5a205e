package homework

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
	"github.com/dlworkbench/hw1/lib/hpo/pgstorage"
)

// Where a study's trials are kept (Config.Storage), in one place: the kinds, how a URL is
// told from a path, what is shown of it, and how each is opened.

// storageKind is what Config.Storage names.
type storageKind int

const (
	// inResults is the journal of the results folder (Config.Storage empty): the study of one
	// machine, shared by the processes that use the same results folder.
	inResults storageKind = iota
	// inJournal is a journal file elsewhere: shared by every process that can lock the file.
	inJournal
	// inDatabase is a PostgreSQL database in Optuna's schema: shared by workers on several
	// machines, and by Optuna itself.
	inDatabase
)

// Heartbeats and retries of a study in a database. By default a running trial records a
// heartbeat every minute, and another worker fails it once its heartbeat is two minutes old:
// the values of Optuna's documentation (heartbeat_interval=60, grace_period=120), so a killed
// worker's trial is run again within about two minutes. Config.HeartbeatSeconds changes the
// interval; the grace is always twice the interval, Optuna's default. A trial failed that way
// is re-queued with its parameters (Optuna's RetryFailedTrialCallback) at most three times: a
// trial that kills every worker that runs it (out of memory, say) is not run forever.
const (
	heartbeatInterval   = 60 * time.Second
	heartbeatRetries    = 3
	minHeartbeatSeconds = 0.1
	maxHeartbeatSeconds = 3600.0
)

// heartbeat is the interval and grace period of the trials in a database.
func (c *Config) heartbeat() (interval, grace time.Duration) {
	interval = heartbeatInterval
	if c.HeartbeatSeconds > 0 {
		interval = time.Duration(c.HeartbeatSeconds * float64(time.Second))
	}
	return interval, 2 * interval
}

// attrSeed is the trial system attribute in which every trial hw1 runs records the study's
// seed. study.json lives in a results folder, so workers on other machines never see it; the
// seed on the trials is checked by every worker of a shared storage, as the search space is
// checked against the trials' distributions.
const attrSeed = "hw1:seed"

// storageKind tells what Config.Storage names.
func (c *Config) storageKind() storageKind {
	switch {
	case c.Storage == "":
		return inResults
	case isDatabaseURL(c.Storage):
		return inDatabase
	}
	return inJournal
}

// SharedStorage reports whether the study is kept outside the results folder (a journal
// elsewhere, or a database), where workers on other machines or with other results folders
// may share it.
func (c *Config) SharedStorage() bool { return c.storageKind() != inResults }

// isDatabaseURL tells a PostgreSQL URL: postgresql://, postgres://, or SQLAlchemy's
// postgresql+driver:// that Optuna's users write.
func isDatabaseURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	base, _, _ := strings.Cut(scheme, "+")
	return base == "postgresql" || base == "postgres"
}

// checkStorage refuses a storage that cannot be opened whatever the machine: another URL
// scheme (Optuna's sqlite:// or mysql:// are not storages here), a URL that does not parse, a
// path that names a folder.
func checkStorage(s string) error {
	if s == "" {
		return nil
	}
	if scheme, _, ok := strings.Cut(s, "://"); ok {
		if !isDatabaseURL(s) {
			return fieldErr("storage", "URL scheme %q is not a storage here: want postgresql://user:pass@host:port/db or the path of a journal file", scheme)
		}
		// url's message would quote the password.
		if _, err := url.Parse(s); err != nil {
			return fieldErr("storage", "%s is not a URL: want postgresql://user:pass@host:port/db?sslmode=...", redactURL(s))
		}
		return nil
	}
	if strings.HasSuffix(s, "/") || strings.HasSuffix(s, string(filepath.Separator)) {
		return fieldErr("storage", "%q names a folder: want the path of a journal file (%s, say)", s, filepath.Join(s, FileJournal))
	}
	return nil
}

// redactURL is a URL without its password, for messages and records; the password is read
// again from the command line, $PGPASSWORD or ~/.pgpass. A password given as a query
// parameter (libpq's password=) is dropped too.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		scheme, _, _ := strings.Cut(s, "://")
		return "(a " + scheme + ":// URL that does not parse)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// RedactStorage is a --storage value as messages may show it: a database URL without its
// password, anything else as it is.
func RedactStorage(s string) string {
	if isDatabaseURL(s) {
		return redactURL(s)
	}
	return s
}

// redactedStorage is Config.Storage as config.json, summaries and messages show it.
func (c *Config) redactedStorage() string {
	if c.storageKind() == inDatabase {
		return redactURL(c.Storage)
	}
	return c.Storage
}

// record is the configuration as config.json keeps it: the storage without
// its password.
func (c Config) record() Config {
	c.Storage = c.redactedStorage()
	return c
}

// StudyStorage says where the study's trials are kept, for messages: the results folder's
// journal, a journal file, or a database URL (without its password) and the study's name.
func (c *Config) StudyStorage() string {
	switch c.storageKind() {
	case inJournal:
		return fmt.Sprintf("journal %s (study %q)", c.Storage, c.Study)
	case inDatabase:
		return fmt.Sprintf("%s (study %q)", redactURL(c.Storage), c.Study)
	}
	return filepath.Join(c.ResultsDir(), FileJournal)
}

// openStorage opens the study's storage: the results folder's journal, a journal file (the
// study named cfg.Study in it), or PostgreSQL (the study named cfg.Study, with heartbeats and
// re-queued trials of dead workers). Warnings of the database go to log.
func openStorage(ctx context.Context, cfg *Config, dir string, log io.Writer) (hpo.Storage, error) {
	switch cfg.storageKind() {
	case inDatabase:
		interval, grace := cfg.heartbeat()
		s, err := pgstorage.Open(ctx, cfg.Storage, cfg.Study,
			pgstorage.WithHeartbeat(interval, grace),
			pgstorage.WithRetryFailed(heartbeatRetries),
			pgstorage.WithLog(log))
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", redactURL(cfg.Storage), err)
		}
		return s, nil
	case inJournal:
		if err := checkJournalPath(cfg.Storage); err != nil {
			return nil, err
		}
		j, err := journal.Open(cfg.Storage, journal.WithStudy(cfg.Study))
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", cfg.Storage, err)
		}
		return j, nil
	}
	// The folder's journal carries the study's name for Optuna and
	// optuna-dashboard; one written before under another name still opens.
	j, err := journal.Open(filepath.Join(dir, FileJournal), journal.WithDefaultStudy(cfg.Study))
	if err != nil {
		return nil, fmt.Errorf("study journal: %w", err)
	}
	return j, nil
}

// checkJournalPath refuses a journal path whose folder is missing, or that is a folder: a
// mistyped --storage, not a fault of the journal.
func checkJournalPath(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fieldErr("storage", "%s is a folder: want the path of a journal file (%s, say)", path, filepath.Join(path, FileJournal))
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fieldErr("storage", "%s: folder %s does not exist (the journal file is created, its folder is not)", path, dir)
	}
	return nil
}

// staleFailer is a storage that fails the trials of workers whose heartbeats stopped
// (pgstorage.Storage.FailStaleTrials), re-queueing them.
type staleFailer interface {
	FailStaleTrials() ([]int, error)
}

// reapDead fails the running trials of dead workers, so that a process waiting for the other
// workers' trials is not held by one that will never finish: a database fails those whose
// heartbeat is older than the grace period (and re-queues them); a journal is opened once
// more, which fails the trials of dead processes of this machine (a journal cannot tell
// whether a worker of another machine lives).
func (r *Run) reapDead(study *hpo.Study) error {
	if sf, ok := study.Storage().(staleFailer); ok {
		// The storage logs each trial it fails.
		if _, err := sf.FailStaleTrials(); err != nil {
			return fmt.Errorf("study %q: fail the trials of dead workers: %w", r.Config.Study, err)
		}
		return nil
	}
	s, err := openStorage(r.ctx(), &r.Config, r.res.dir, r.log)
	if err != nil {
		return err
	}
	return s.Close()
}
