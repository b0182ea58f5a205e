package pgstorage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Storage is an hpo.Storage on one study of a PostgreSQL database in Optuna's schema. It is safe
// for concurrent use; several Storages (in one process or on several machines) may share a
// study.
type Storage struct {
	pool    *pgxpool.Pool
	cfg     config
	name    string
	studyID int32
	self    string // host:pid, named in failure reasons
	id      string // tells this Storage's tokens from those of others
	seq     atomic.Uint64

	ctx    context.Context // cancelled by Close: ends every call and the keeper
	cancel context.CancelFunc
	stop   chan struct{} // closed by Close: stops the keeper
	done   chan struct{} // closed when the keeper returns

	mu sync.Mutex
	// ids maps trial numbers to trial_id, for the trials this Storage has met.
	ids map[int]int32
	// finished caches finished trials by trial_id: they never change again.
	finished map[int32]hpo.FrozenTrial
	// watermark is the largest trial_id up to which the study's trials are all in finished.
	watermark int32
	// running holds the trials this Storage started and has not finished (trial_id -> number):
	// it keeps their heartbeats, and Close fails them.
	running map[int32]int
	// workers holds the worker indices this Storage registered, with their lease owner tokens.
	workers map[int]string
	// choices holds a categorical parameter's distribution_json as the study first recorded it,
	// so that Optuna's typed choices are written back as they were.
	choices map[string]string
	closed  bool

	paused atomic.Bool // tests: the keeper skips its beats, as a worker cut off from the server
}

type config struct {
	heartbeat, grace    time.Duration
	leaseEvery, lease   time.Duration
	retryFailed         int // < 0: without limit; 0: off
	maxConns            int32
	connectTimeout      time.Duration
	statementTimeout    time.Duration
	attempts            int
	backoff, maxBackoff time.Duration
	log                 io.Writer
}

func (c *config) callTimeout() time.Duration {
	return c.connectTimeout + c.statementTimeout + time.Second
}

// Option configures Open.
type Option func(*config)

// WithHeartbeat sets how often a running trial records its heartbeat and how old a heartbeat
// may get before another worker fails the trial (Optuna's heartbeat_interval and grace_period;
// Optuna's default grace is twice the interval). The default is every 10 s with a grace of
// 60 s; interval 0 turns heartbeats off (trials of dead workers then stay RUNNING, and count
// towards hpo.WithMaxTrials, until finished by hand). grace <= 0 means twice the interval.
func WithHeartbeat(interval, grace time.Duration) Option {
	return func(c *config) {
		c.heartbeat, c.grace = max(interval, 0), grace
		if c.grace <= 0 {
			c.grace = 2 * c.heartbeat
		}
	}
}

// WithRetryFailed re-queues a trial failed by its heartbeat as a WAITING trial with the same
// parameters, as Optuna's RetryFailedTrialCallback(max_retry): at most maxRetries times for one
// original trial (maxRetries < 0: without limit; 0: never, the default).
func WithRetryFailed(maxRetries int) Option { return func(c *config) { c.retryFailed = maxRetries } }

// WithPool sets the most connections the pool opens (default: the URL's pool_max_conns, else
// pgxpool's default, the larger of 4 and the number of CPUs).
func WithPool(maxConns int) Option { return func(c *config) { c.maxConns = int32(maxConns) } }

// WithTimeouts sets the connect timeout (default: the URL's connect_timeout, else 10 s) and the
// server's statement_timeout (default: the URL's statement_timeout, else 30 s), which is also
// the idle_in_transaction_session_timeout, so that a worker cut off mid-transaction releases
// the study lock. An attempt of a call is abandoned after both plus one second, then retried.
func WithTimeouts(connect, statement time.Duration) Option {
	return func(c *config) { c.connectTimeout, c.statementTimeout = connect, statement }
}

// WithRetry sets how many times a call is attempted when it fails transiently (lost
// connection, serialization failure, deadlock; default 8) and the longest backoff between
// attempts (default 2 s; backoff starts at 50 ms and doubles).
func WithRetry(attempts int, maxBackoff time.Duration) Option {
	return func(c *config) { c.attempts, c.maxBackoff = max(attempts, 1), maxBackoff }
}

// WithLog sends warnings (trials failed by heartbeat, retried calls, lost leases) to w
// (default: standard error).
func WithLog(w io.Writer) Option { return func(c *config) { c.log = w } }

// Open connects to the database at url (postgresql://user:pass@host:port/db?sslmode=...; the
// SQLAlchemy spellings postgresql+psycopg2:// and postgresql+psycopg:// are accepted too, so
// that Optuna and this storage can share one URL), creates Optuna's schema if the database has
// none, refuses a schema at another version (ErrSchemaVersion), and opens the study, creating it
// when missing (its direction is set by the first hpo.NewStudy, through SetDirection).
func Open(ctx context.Context, rawURL, studyName string, opts ...Option) (*Storage, error) {
	if studyName == "" {
		return nil, errors.New("pgstorage: empty study name")
	}
	cfg := config{heartbeat: 10 * time.Second, grace: 60 * time.Second, attempts: 8,
		backoff: 50 * time.Millisecond, maxBackoff: 2 * time.Second, log: os.Stderr}
	for _, o := range opts {
		o(&cfg)
	}
	pc, where, err := poolConfig(rawURL, &cfg)
	if err != nil {
		return nil, err
	}
	// Worker leases follow the heartbeat; without heartbeats they still need one.
	cfg.leaseEvery, cfg.lease = cfg.heartbeat, cfg.grace
	if cfg.heartbeat == 0 {
		cfg.leaseEvery, cfg.lease = 10*time.Second, 60*time.Second
	}
	host, _ := os.Hostname()
	s := &Storage{cfg: cfg, name: studyName, self: fmt.Sprintf("%s:%d", host, os.Getpid()),
		id: strconv.FormatUint(rand.Uint64(), 36), stop: make(chan struct{}), done: make(chan struct{}),
		ids: map[int]int32{}, finished: map[int32]hpo.FrozenTrial{}, running: map[int32]int{},
		workers: map[int]string{}, choices: map[string]string{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	fail := func(err error) (*Storage, error) {
		s.cancel()
		if s.pool != nil {
			s.pool.Close()
		}
		return nil, err
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return fail(fmt.Errorf("pgstorage: %s: %w", where, err))
	}
	// Open's own context bounds the whole opening, retries included.
	stopOnCtx := context.AfterFunc(ctx, s.cancel)
	defer stopOnCtx()
	err = s.call("open "+where, func(ctx context.Context, _ int) error {
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if err := ensureSchema(ctx, tx); err != nil {
				if errors.Is(err, ErrSchemaVersion) {
					return permanent(err)
				}
				return err
			}
			return s.openStudy(ctx, tx)
		})
	})
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, context.Cause(ctx))
		}
		return fail(err)
	}
	if !stopOnCtx() {
		return fail(fmt.Errorf("pgstorage %s: %s: %w", studyName, where, context.Cause(ctx)))
	}
	go s.keep()
	return s, nil
}

// poolConfig reads the URL and applies the options over what it says.
func poolConfig(rawURL string, cfg *config) (*pgxpool.Config, string, error) {
	u := rawURL
	if scheme, rest, ok := strings.Cut(u, "://"); ok {
		if base, driver, hasDriver := strings.Cut(scheme, "+"); hasDriver && (base == "postgresql" || base == "postgres") && driver != "" {
			u = base + "://" + rest
		}
	}
	where := redact(u)
	pc, err := pgxpool.ParseConfig(u)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, where, fmt.Errorf("pgstorage: cannot parse the storage URL %s (want postgresql://user:pass@host:port/db?sslmode=...)", where)
	}
	if cfg.maxConns > 0 {
		pc.MaxConns = cfg.maxConns
	}
	if cfg.connectTimeout > 0 {
		pc.ConnConfig.ConnectTimeout = cfg.connectTimeout
	} else if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.connectTimeout = pc.ConnConfig.ConnectTimeout
	if cfg.statementTimeout > 0 {
		pc.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(cfg.statementTimeout.Milliseconds(), 10)
	} else if st, ok := pc.ConnConfig.RuntimeParams["statement_timeout"]; ok {
		ms, err := strconv.ParseInt(st, 10, 64)
		if err != nil {
			return nil, where, fmt.Errorf("pgstorage: %s: statement_timeout %q is not a number of milliseconds", where, st)
		}
		cfg.statementTimeout = time.Duration(ms) * time.Millisecond
	} else {
		cfg.statementTimeout = 30 * time.Second
		pc.ConnConfig.RuntimeParams["statement_timeout"] = "30000"
	}
	if _, ok := pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		// A worker cut off in the middle of a transaction must not hold the study lock for
		// long: the server ends such a session (our transactions are a few statements).
		pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(cfg.statementTimeout.Milliseconds(), 10)
	}
	if _, ok := pc.ConnConfig.RuntimeParams["application_name"]; !ok {
		pc.ConnConfig.RuntimeParams["application_name"] = "hw1-pgstorage"
	}
	return pc, where, nil
}

// redact hides the password of a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// openStudy finds the study or creates it with direction NOT_SET (Optuna's own placeholder),
// which SetDirection then replaces.
func (s *Storage) openStudy(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `INSERT INTO studies (study_name) VALUES ($1) ON CONFLICT (study_name) DO NOTHING`, s.name); err != nil {
		return fmt.Errorf("create study %q: %w", s.name, err)
	}
	if err := tx.QueryRow(ctx, `SELECT study_id FROM studies WHERE study_name = $1`, s.name).Scan(&s.studyID); err != nil {
		return fmt.Errorf("find study %q: %w", s.name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO study_directions (direction, study_id, objective)
		SELECT 'NOT_SET', $1, 0 WHERE NOT EXISTS (SELECT 1 FROM study_directions WHERE study_id = $1)`, s.studyID); err != nil {
		return fmt.Errorf("study %q: direction: %w", s.name, err)
	}
	return nil
}

// StudyName returns the name of the study the storage keeps.
func (s *Storage) StudyName() string { return s.name }

// StudyID returns the study's studies.study_id.
func (s *Storage) StudyID() int { return int(s.studyID) }

func (s *Storage) logf(format string, args ...any) {
	fmt.Fprintf(s.cfg.log, "pgstorage %s: "+format+"\n", append([]any{s.name}, args...)...)
}

// token returns a new token for a trial-creating call.
func (s *Storage) token() string {
	return fmt.Sprintf("%s:%s:%d", s.self, s.id, s.seq.Add(1))
}

// lockStudy takes the study row lock that orders trial creation, as Optuna does.
func (s *Storage) lockStudy(ctx context.Context, tx pgx.Tx) error {
	var id int32
	if err := tx.QueryRow(ctx, `SELECT study_id FROM studies WHERE study_id = $1 FOR UPDATE`, s.studyID).Scan(&id); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return permanent(fmt.Errorf("study %q (id %d) was deleted", s.name, s.studyID))
		}
		return fmt.Errorf("lock the study: %w", err)
	}
	return nil
}

// SetDirection implements hpo.Storage: it replaces the NOT_SET of a new study, and refuses the
// other direction, or a study with several objectives.
func (s *Storage) SetDirection(d hpo.Direction) error {
	if d != hpo.Minimize && d != hpo.Maximize {
		return fmt.Errorf("pgstorage %s: direction %q is neither %s nor %s", s.name, d, hpo.Minimize, hpo.Maximize)
	}
	return s.call("set direction", func(ctx context.Context, _ int) error {
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockStudy(ctx, tx); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT direction::text FROM study_directions WHERE study_id = $1 ORDER BY objective`, s.studyID)
			if err != nil {
				return err
			}
			dirs, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			switch {
			case len(dirs) > 1:
				return permanent(fmt.Errorf("the study has %d objectives %v; this storage keeps single-objective studies", len(dirs), dirs))
			case len(dirs) == 1 && dirs[0] == string(d):
				return nil
			case len(dirs) == 1 && dirs[0] != "NOT_SET":
				return permanent(fmt.Errorf("storage holds a study to %s, asked to %s", dirs[0], d))
			}
			_, err = tx.Exec(ctx, `INSERT INTO study_directions (direction, study_id, objective) VALUES ($1::text::studydirection, $2, 0)
				ON CONFLICT (study_id, objective) DO UPDATE SET direction = EXCLUDED.direction`, string(d), s.studyID)
			return err
		})
	})
}

// RegisterWorker implements hpo.Storage: the lowest index whose lease (a study system attribute
// "hpo:worker:<k>" that the holder renews every heartbeat interval) is missing, expired or
// released by Close. A worker cut off for longer than the lease may lose its index to another;
// both then draw the same random stream until one stops (it is logged).
func (s *Storage) RegisterWorker() (int, error) {
	owner := s.token()
	k := -1
	err := s.call("register worker", func(ctx context.Context, _ int) error {
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockStudy(ctx, tx); err != nil {
				return err
			}
			var now time.Time
			if err := tx.QueryRow(ctx, `SELECT localtimestamp`).Scan(&now); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT key, value_json FROM study_system_attributes WHERE study_id = $1 AND key LIKE 'hpo:worker:%'`, s.studyID)
			if err != nil {
				return err
			}
			held := map[int]bool{}
			for rows.Next() {
				var key, value string
				if err := rows.Scan(&key, &value); err != nil {
					rows.Close()
					return err
				}
				idx, err := strconv.Atoi(strings.TrimPrefix(key, attrWorkerPrefix))
				if err != nil {
					continue
				}
				l, at, err := parseLease(value)
				if err == nil && l.Owner != owner && now.Sub(at) <= s.cfg.lease {
					held[idx] = true
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			k = 0
			for held[k] {
				k++
			}
			_, err = tx.Exec(ctx, `INSERT INTO study_system_attributes (study_id, key, value_json) VALUES ($1, $2, `+leaseSQL+`)
				ON CONFLICT (study_id, key) DO UPDATE SET value_json = EXCLUDED.value_json`,
				s.studyID, attrWorkerPrefix+strconv.Itoa(k), owner)
			return err
		})
	})
	if err != nil {
		return -1, err
	}
	s.mu.Lock()
	s.workers[k] = owner
	s.mu.Unlock()
	return k, nil
}

// EnqueueTrial implements hpo.Storage, writing the parameters to fixed_params as Optuna's
// study.enqueue_trial does.
func (s *Storage) EnqueueTrial(fixed map[string]any, skipIfExists bool) (int, bool, error) {
	fj, err := fixedJSON(fixed)
	if err != nil {
		return -1, false, fmt.Errorf("pgstorage %s: enqueue: %w", s.name, err)
	}
	token := s.token()
	number, added := -1, false
	err = s.call("enqueue trial", func(ctx context.Context, attempt int) error {
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockStudy(ctx, tx); err != nil {
				return err
			}
			if attempt > 1 {
				if id, n, ok, err := s.findToken(ctx, tx, token); err != nil || ok {
					number, added = n, true
					s.remember(n, id)
					return err
				}
			}
			if skipIfExists {
				all, err := s.readAll(ctx, tx)
				if err != nil {
					return err
				}
				for i := range all {
					if hpo.EnqueuedMatch(&all[i], fixed) {
						number, added = all[i].Number, false
						return nil
					}
				}
			}
			id, n, err := s.insertTrial(ctx, tx, "WAITING", false)
			if err != nil {
				return err
			}
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES ($1, $2, $3)`, id, attrFixedParams, fj)
			b.Queue(`INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES ($1, $2, $3)`, id, attrToken, jsonString(token))
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			number, added = n, true
			s.remember(n, id)
			return nil
		})
	})
	if err != nil {
		return -1, false, err
	}
	return number, added, nil
}

// insertTrial adds a trial numbered as Optuna numbers it, the count of the study's earlier
// trials (the caller holds the study lock).
func (s *Storage) insertTrial(ctx context.Context, tx pgx.Tx, state string, start bool) (int32, int, error) {
	startSQL := "NULL"
	if start {
		startSQL = sqlNow
	}
	var id, n int32
	err := tx.QueryRow(ctx, `INSERT INTO trials (number, study_id, state, datetime_start)
		VALUES ((SELECT count(*) FROM trials WHERE study_id = $1), $1, $2::text::trialstate, `+startSQL+`)
		RETURNING trial_id, number`, s.studyID, state).Scan(&id, &n)
	if err != nil {
		return 0, 0, fmt.Errorf("insert a trial: %w", err)
	}
	return id, int(n), nil
}

// findToken finds the trial that an earlier attempt of this call created or started.
func (s *Storage) findToken(ctx context.Context, tx pgx.Tx, token string) (id int32, number int, ok bool, err error) {
	var n int32
	err = tx.QueryRow(ctx, `SELECT t.trial_id, t.number FROM trial_system_attributes a JOIN trials t ON t.trial_id = a.trial_id
		WHERE t.study_id = $1 AND a.key = $2 AND a.value_json = $3`, s.studyID, attrToken, jsonString(token)).Scan(&id, &n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("look for an earlier attempt: %w", err)
	}
	return id, int(n), true, nil
}

func (s *Storage) remember(number int, id int32) {
	s.mu.Lock()
	s.ids[number] = id
	s.mu.Unlock()
}

// CreateTrial implements hpo.Storage. In one transaction under the study lock it fails the
// trials whose heartbeat is older than the grace period (re-queueing them with
// WithRetryFailed), checks the target, and starts the oldest WAITING trial that no other worker
// is starting, or a new one.
func (s *Storage) CreateTrial(limit int) (hpo.FrozenTrial, error) {
	token := s.token()
	var out hpo.FrozenTrial
	var id int32
	err := s.call("create trial", func(ctx context.Context, attempt int) error {
		var reached error
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockStudy(ctx, tx); err != nil {
				return err
			}
			found := false
			if attempt > 1 {
				var err error
				if id, _, found, err = s.findToken(ctx, tx, token); err != nil {
					return err
				}
			}
			if !found {
				if s.cfg.heartbeat > 0 {
					if _, err := s.failStale(ctx, tx); err != nil {
						return err
					}
				}
				if limit > 0 {
					var used int
					if err := tx.QueryRow(ctx, `SELECT count(*) FROM trials WHERE study_id = $1 AND state IN ('COMPLETE', 'PRUNED', 'RUNNING')`, s.studyID).Scan(&used); err != nil {
						return err
					}
					if used >= limit {
						// Commit what failStale did; the target is the answer.
						reached = fmt.Errorf("%d trials complete, pruned or running: %w", used, hpo.ErrMaxTrials)
						return nil
					}
				}
				var err error
				if id, err = s.startTrial(ctx, tx, token); err != nil {
					return err
				}
			}
			ts, err := loadTrials(ctx, tx, trialFilter{`t.trial_id = $1`, []any{id}})
			if err != nil {
				return err
			}
			if len(ts) != 1 {
				return fmt.Errorf("trial id %d vanished", id)
			}
			out = ts[0].trial
			return nil
		})
		if err == nil && reached != nil {
			return permanent(reached)
		}
		return err
	})
	if err != nil {
		return hpo.FrozenTrial{}, err
	}
	s.mu.Lock()
	s.ids[out.Number] = id
	s.running[id] = out.Number
	s.mu.Unlock()
	return out, nil
}

// startTrial claims the oldest WAITING trial or inserts a RUNNING one, marks it with the token
// and gives it its first heartbeat (the caller holds the study lock).
func (s *Storage) startTrial(ctx context.Context, tx pgx.Tx, token string) (int32, error) {
	var id int32
	err := tx.QueryRow(ctx, `SELECT trial_id FROM trials WHERE study_id = $1 AND state = 'WAITING'
		ORDER BY number, trial_id LIMIT 1 FOR UPDATE SKIP LOCKED`, s.studyID).Scan(&id)
	switch {
	case err == nil:
		if _, err := tx.Exec(ctx, `UPDATE trials SET state = 'RUNNING', datetime_start = `+sqlNow+` WHERE trial_id = $1`, id); err != nil {
			return 0, fmt.Errorf("start a waiting trial: %w", err)
		}
	case errors.Is(err, pgx.ErrNoRows):
		if id, _, err = s.insertTrial(ctx, tx, "RUNNING", true); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("look for a waiting trial: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES ($1, $2, $3)
		ON CONFLICT (trial_id, key) DO UPDATE SET value_json = EXCLUDED.value_json`, id, attrToken, jsonString(token))
	if s.cfg.heartbeat > 0 {
		b.Queue(`INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES ($1, localtimestamp)
			ON CONFLICT (trial_id) DO UPDATE SET heartbeat = EXCLUDED.heartbeat`, id)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("mark the trial: %w", err)
	}
	return id, nil
}

// trialID returns the trial_id of a trial of the study.
func (s *Storage) trialID(ctx context.Context, number int) (int32, error) {
	s.mu.Lock()
	id, ok := s.ids[number]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	err := s.pool.QueryRow(ctx, `SELECT trial_id FROM trials WHERE study_id = $1 AND number = $2 ORDER BY trial_id LIMIT 1`, s.studyID, number).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, permanent(fmt.Errorf("trial %d does not exist", number))
	}
	if err != nil {
		return 0, err
	}
	s.remember(number, id)
	return id, nil
}

// notRunning says why a write did not reach trial number: it does not exist, or it is not
// RUNNING (then the error wraps hpo.ErrTrialNotRunning and names the reason it was failed); nil
// when it is running after all.
func (s *Storage) notRunning(ctx context.Context, id int32, number int) error {
	state, reason, err := s.trialState(ctx, id, number)
	if err != nil || state == string(hpo.Running) {
		return err
	}
	return s.notRunningError(id, number, state, reason)
}

// trialState reads a trial's state and failure reason.
func (s *Storage) trialState(ctx context.Context, id int32, number int) (state, reason string, err error) {
	var reasonJSON *string
	err = s.pool.QueryRow(ctx, `SELECT t.state::text, (SELECT value_json FROM trial_system_attributes a WHERE a.trial_id = t.trial_id AND a.key = $2)
		FROM trials t WHERE t.trial_id = $1`, id, attrFailReason).Scan(&state, &reasonJSON)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", permanent(fmt.Errorf("trial %d does not exist", number))
	}
	if err != nil {
		return "", "", err
	}
	if reasonJSON != nil {
		var tmp hpo.FrozenTrial
		if decodeSystemAttr(&tmp, attrFailReason, *reasonJSON) == nil {
			reason = tmp.FailReason
		}
	}
	return state, reason, nil
}

func (s *Storage) notRunningError(id int32, number int, state, reason string) error {
	why := ""
	if reason != "" {
		why = " (" + reason + ")"
	}
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
	return permanent(fmt.Errorf("trial %d is %s, not %s%s: %w", number, state, hpo.Running, why, hpo.ErrTrialNotRunning))
}

// SetParam implements hpo.Storage: one row of trial_params, param_value the internal value and
// distribution_json Optuna's JSON of d. The trial row is share-locked while it is written, so a
// worker failing the trial at once waits for it or skips it.
func (s *Storage) SetParam(number int, name string, d hpo.Distribution, v float64) error {
	if math.IsNaN(v) || (d.Kind == hpo.CategoricalKind && !d.Contains(v)) {
		return fmt.Errorf("pgstorage %s: trial %d parameter %q: value %v does not fit %s", s.name, number, name, v, d)
	}
	dj, err := journal.OptunaDistributionJSON(d)
	if err != nil {
		return fmt.Errorf("pgstorage %s: trial %d parameter %q: %w", s.name, number, name, err)
	}
	return s.call(fmt.Sprintf("trial %d: set parameter %q", number, name), func(ctx context.Context, _ int) error {
		if d.Kind == hpo.CategoricalKind {
			if dj, err = s.categoricalJSON(ctx, name, d, dj); err != nil {
				return err
			}
		}
		id, err := s.trialID(ctx, number)
		if err != nil {
			return err
		}
		var pid int32
		err = s.pool.QueryRow(ctx, `WITH t AS (SELECT trial_id FROM trials WHERE trial_id = $1 AND state = 'RUNNING' FOR SHARE)
			INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json)
			SELECT trial_id, $2, $3, $4 FROM t
			ON CONFLICT (trial_id, param_name) DO UPDATE SET param_value = EXCLUDED.param_value
				WHERE trial_params.distribution_json = EXCLUDED.distribution_json
			RETURNING param_id`, id, name, v, dj).Scan(&pid)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := s.notRunning(ctx, id, number); err != nil {
			return err
		}
		// Running, so the parameter was there with another distribution_json: the same
		// distribution spelled otherwise (written by Optuna) is fine, another is not.
		var old string
		if err := s.pool.QueryRow(ctx, `SELECT distribution_json FROM trial_params WHERE trial_id = $1 AND param_name = $2`, id, name).Scan(&old); err != nil {
			return err
		}
		od, err := journal.ParseOptunaDistribution(old)
		if err != nil || !od.Equal(d) {
			return permanent(fmt.Errorf("trial %d parameter %q: distribution %s differs from earlier %s", number, name, d, old))
		}
		_, err = s.pool.Exec(ctx, `UPDATE trial_params SET param_value = $3 WHERE trial_id = $1 AND param_name = $2`, id, name, v)
		return err
	})
}

// categoricalJSON returns the distribution_json to write for a categorical parameter: the one
// the study first recorded for it when that has the same labels (Optuna's typed choices stay
// typed), else ours.
func (s *Storage) categoricalJSON(ctx context.Context, name string, d hpo.Distribution, ours string) (string, error) {
	s.mu.Lock()
	known, ok := s.choices[name]
	s.mu.Unlock()
	if !ok {
		err := s.pool.QueryRow(ctx, `SELECT p.distribution_json FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id
			WHERE t.study_id = $1 AND p.param_name = $2 ORDER BY p.param_id LIMIT 1`, s.studyID, name).Scan(&known)
		if errors.Is(err, pgx.ErrNoRows) {
			known, err = ours, nil
		}
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		s.choices[name] = known
		s.mu.Unlock()
	}
	if known != ours && sameChoices(known, d) {
		return known, nil
	}
	return ours, nil
}

// Report implements hpo.Storage: a second report at a step is ignored, as Optuna's
// trial.report ignores it.
func (s *Storage) Report(number, step int, v float64) error {
	if step < 0 {
		return fmt.Errorf("pgstorage %s: trial %d: step %d is negative", s.name, number, step)
	}
	value, kind := intermediateRepr(v)
	return s.call(fmt.Sprintf("trial %d: report step %d", number, step), func(ctx context.Context, _ int) error {
		id, err := s.trialID(ctx, number)
		if err != nil {
			return err
		}
		var rid int32
		err = s.pool.QueryRow(ctx, `WITH t AS (SELECT trial_id FROM trials WHERE trial_id = $1 AND state = 'RUNNING' FOR SHARE)
			INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type)
			SELECT trial_id, $2, $3, $4::text::trialintermediatevaluetype FROM t
			ON CONFLICT (trial_id, step) DO NOTHING
			RETURNING trial_intermediate_value_id`, id, step, value, kind).Scan(&rid)
		if errors.Is(err, pgx.ErrNoRows) {
			// Not running, or a report at this step is there already.
			return s.notRunning(ctx, id, number)
		}
		return err
	})
}

// SetSystemAttr implements hpo.Storage; the value is written as JSON, as Optuna writes system
// attributes.
func (s *Storage) SetSystemAttr(number int, key string, v float64) error {
	return s.call(fmt.Sprintf("trial %d: set system attribute %q", number, key), func(ctx context.Context, _ int) error {
		id, err := s.trialID(ctx, number)
		if err != nil {
			return err
		}
		var aid int32
		err = s.pool.QueryRow(ctx, `WITH t AS (SELECT trial_id FROM trials WHERE trial_id = $1 AND state = 'RUNNING' FOR SHARE)
			INSERT INTO trial_system_attributes (trial_id, key, value_json)
			SELECT trial_id, $2, $3 FROM t
			ON CONFLICT (trial_id, key) DO UPDATE SET value_json = EXCLUDED.value_json
			RETURNING trial_system_attribute_id`, id, key, pyFloat(v)).Scan(&aid)
		if errors.Is(err, pgx.ErrNoRows) {
			if err := s.notRunning(ctx, id, number); err != nil {
				return err
			}
			return fmt.Errorf("trial %d: system attribute %q was not written", number, key)
		}
		return err
	})
}

// FinishTrial implements hpo.Storage in one statement: the value (none for FAIL, none for NaN,
// which Optuna's trial_values cannot hold), the reason of a failure as the system attribute
// fail_reason, the state and datetime_complete.
func (s *Storage) FinishTrial(number int, state hpo.TrialState, v float64, reason string) error {
	if !state.Finished() {
		return fmt.Errorf("pgstorage %s: trial %d: %s is not a final state", s.name, number, state)
	}
	value, kind, hasValue := valueRepr(v)
	if state == hpo.Failed {
		hasValue = false
	}
	if kind == "" {
		kind = "FINITE"
	}
	hasReason := state == hpo.Failed && reason != ""
	err := s.call(fmt.Sprintf("trial %d: finish as %s", number, state), func(ctx context.Context, attempt int) error {
		id, err := s.trialID(ctx, number)
		if err != nil {
			return err
		}
		var n int32
		err = s.pool.QueryRow(ctx, `WITH t AS (SELECT trial_id FROM trials WHERE trial_id = $1 AND state = 'RUNNING' FOR UPDATE),
			v AS (INSERT INTO trial_values (trial_id, objective, value, value_type)
				SELECT trial_id, 0, $2, $3::text::trialvaluetype FROM t WHERE $4::boolean
				ON CONFLICT (trial_id, objective) DO UPDATE SET value = EXCLUDED.value, value_type = EXCLUDED.value_type),
			r AS (INSERT INTO trial_system_attributes (trial_id, key, value_json)
				SELECT trial_id, $5, $6 FROM t WHERE $7::boolean
				ON CONFLICT (trial_id, key) DO UPDATE SET value_json = EXCLUDED.value_json)
			UPDATE trials SET state = $8::text::trialstate, datetime_complete = `+sqlNow+`
			FROM t WHERE trials.trial_id = t.trial_id
			RETURNING trials.number`,
			id, value, kind, hasValue, attrFailReason, jsonString(reason), hasReason, string(state)).Scan(&n)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		now, stored, err := s.trialState(ctx, id, number)
		switch {
		case err != nil:
			return err
		case attempt > 1 && now == string(state) && (state != hpo.Failed || stored == reason):
			// An earlier attempt committed, and its reply was lost. (A FAIL with another
			// reason is another worker's: its heartbeat check failed the trial meanwhile.)
			return nil
		case now == string(hpo.Running):
			return fmt.Errorf("trial %d was not finished", number)
		}
		return s.notRunningError(id, number, now, stored)
	})
	if err == nil || errors.Is(err, hpo.ErrTrialNotRunning) {
		// Finished, by this worker or another: no more heartbeats for it. A call that gave
		// up on transient errors leaves the trial RUNNING, and its heartbeat goes on.
		s.mu.Lock()
		for id, n := range s.running {
			if n == number {
				delete(s.running, id)
			}
		}
		s.mu.Unlock()
	}
	return err
}

// readAll returns every trial of the study, from the cache for finished ones. As Optuna's
// cached storage does, it asks only for the trials above a watermark (the largest trial_id up
// to which every trial of the study is finished and cached) and not cached: trials are
// inserted under the study lock, by this storage and by Optuna alike, so trial_ids grow in the
// order trials become visible and none can appear below the watermark later.
func (s *Storage) readAll(ctx context.Context, q batchSender) ([]hpo.FrozenTrial, error) {
	s.mu.Lock()
	w := s.watermark
	above := []int32{} // not nil: = ANY(NULL) would select nothing
	cached := make([]hpo.FrozenTrial, 0, len(s.finished))
	for id, t := range s.finished {
		if id > w {
			above = append(above, id)
		}
		cached = append(cached, t)
	}
	s.mu.Unlock()
	fresh, err := loadTrials(ctx, q, trialFilter{`t.study_id = $1 AND t.trial_id > $2 AND NOT (t.trial_id = ANY($3))`, []any{s.studyID, w, above}})
	if err != nil {
		return nil, err
	}
	out := make([]hpo.FrozenTrial, 0, len(cached)+len(fresh))
	for _, t := range cached {
		out = append(out, t.Clone())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	firstOpen := int32(math.MaxInt32) // the smallest trial_id not finished
	for _, l := range fresh {
		s.ids[l.trial.Number] = l.id
		if l.trial.State.Finished() {
			s.finished[l.id] = l.trial.Clone()
		} else {
			firstOpen = min(firstOpen, l.id)
		}
		for name, dj := range l.choicesJSON {
			if _, ok := s.choices[name]; !ok {
				s.choices[name] = dj
			}
		}
		out = append(out, l.trial)
	}
	for id := range s.finished {
		if id > s.watermark && id < firstOpen {
			s.watermark = id
		}
	}
	byNumber(out)
	return out, nil
}

// Trials implements hpo.Storage.
func (s *Storage) Trials() ([]hpo.FrozenTrial, error) {
	var out []hpo.FrozenTrial
	err := s.call("read trials", func(ctx context.Context, _ int) error {
		var err error
		out, err = s.readAll(ctx, s.pool)
		return err
	})
	return out, err
}

// Trial implements hpo.Storage.
func (s *Storage) Trial(number int) (hpo.FrozenTrial, error) {
	var out hpo.FrozenTrial
	err := s.call(fmt.Sprintf("read trial %d", number), func(ctx context.Context, _ int) error {
		s.mu.Lock()
		id, ok := s.ids[number]
		t, done := s.finished[id]
		s.mu.Unlock()
		if ok && done {
			out = t.Clone()
			return nil
		}
		ts, err := loadTrials(ctx, s.pool, trialFilter{`t.study_id = $1 AND t.number = $2`, []any{s.studyID, number}})
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return permanent(fmt.Errorf("trial %d does not exist", number))
		}
		out = ts[0].trial
		s.mu.Lock()
		s.ids[number] = ts[0].id
		if out.State.Finished() {
			s.finished[ts[0].id] = out.Clone()
		}
		s.mu.Unlock()
		return nil
	})
	return out, err
}

// Close implements hpo.Storage. The trials this storage is still running are failed as cut
// short (hpo.ReasonWorkerDied: the study draws them again), its worker indices are released,
// and the pool is closed.
func (s *Storage) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	running := make([]int32, 0, len(s.running))
	for id := range s.running {
		running = append(running, id)
	}
	s.running = map[int32]int{}
	workers := s.workers
	s.workers = map[int]string{}
	s.mu.Unlock()
	close(s.stop)
	<-s.done

	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.callTimeout())
	defer cancel()
	if len(running) > 0 {
		reason := hpo.ReasonWorkerDied(s.self + " (its storage was closed)")
		_, err := s.pool.Exec(ctx, `WITH t AS (UPDATE trials SET state = 'FAIL', datetime_complete = `+sqlNow+`
				WHERE trial_id = ANY($1) AND state = 'RUNNING' RETURNING trial_id)
			INSERT INTO trial_system_attributes (trial_id, key, value_json) SELECT trial_id, $2, $3 FROM t
			ON CONFLICT (trial_id, key) DO UPDATE SET value_json = EXCLUDED.value_json`, running, attrFailReason, jsonString(reason))
		if err != nil {
			errs = append(errs, fmt.Errorf("fail the trials still running: %w", err))
		}
	}
	for k, owner := range workers {
		_, err := s.pool.Exec(ctx, `DELETE FROM study_system_attributes WHERE study_id = $1 AND key = $2 AND starts_with(value_json, $3)`,
			s.studyID, attrWorkerPrefix+strconv.Itoa(k), leaseOwnerPrefix(owner))
		if err != nil {
			errs = append(errs, fmt.Errorf("release worker index %d: %w", k, err))
		}
	}
	s.cancel()
	s.pool.Close()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pgstorage %s: close: %w", s.name, err)
	}
	return nil
}
