//go:build linux

package pgstorage

import (
	"errors"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/internal/pgtest"
)

// A schema at another version, or a partial one, is refused with an error naming what was found
// and what is expected; a schema at the right version opens again.
func TestOpenRefusesAnUnknownSchema(t *testing.T) {
	url := pgtest.Database(t)
	s := openTest(t, url, "s")
	exec := func(sql string) {
		t.Helper()
		if _, err := s.pool.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
	reopen := func() error {
		t.Helper()
		r, err := Open(t.Context(), url, "s", WithLog(testLog{t}))
		if err == nil {
			r.Close()
		}
		return err
	}
	if err := reopen(); err != nil {
		t.Fatalf("reopening its own schema: %v", err)
	}
	for _, c := range []struct {
		setup, undo string
		says        []string
	}{
		{`UPDATE alembic_version SET version_num = 'v9.9.9.z'`, `UPDATE alembic_version SET version_num = 'v3.2.0.a'`,
			[]string{"v9.9.9.z", "v3.2.0.a", "Optuna 5.0.0", "newer"}},
		{`UPDATE alembic_version SET version_num = 'v3.0.0.d'`, `UPDATE alembic_version SET version_num = 'v3.2.0.a'`,
			[]string{"v3.0.0.d", "v3.2.0.a", "optuna storage upgrade"}},
		{`DELETE FROM alembic_version`, `INSERT INTO alembic_version VALUES ('v3.2.0.a')`,
			[]string{"alembic_version is empty", "v3.2.0.a"}},
		{`UPDATE version_info SET schema_version = 11`, `UPDATE version_info SET schema_version = 12`,
			[]string{"schema_version is 11", "want 12"}},
		{`ALTER TABLE trial_heartbeats RENAME TO old_heartbeats`, `ALTER TABLE old_heartbeats RENAME TO trial_heartbeats`,
			[]string{"trial_heartbeats", "partial"}},
	} {
		exec(c.setup)
		err := reopen()
		if !errors.Is(err, ErrSchemaVersion) {
			t.Fatalf("after %q: %v, want ErrSchemaVersion", c.setup, err)
		}
		for _, w := range c.says {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("after %q the error does not say %q: %v", c.setup, w, err)
			}
		}
		t.Logf("%s: %v", c.setup, err)
		exec(c.undo)
	}
	if err := reopen(); err != nil {
		t.Fatalf("after the undos: %v", err)
	}
}

// Workers that open an empty database at once create the schema once.
func TestConcurrentOpensCreateTheSchemaOnce(t *testing.T) {
	url := pgtest.Database(t)
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		go func() {
			s, err := Open(t.Context(), url, "s", WithLog(testLog{t}))
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 6; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := openTest(t, url, "s")
	var studies int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM studies`).Scan(&studies); err != nil || studies != 1 {
		t.Fatalf("%d studies (%v), want 1", studies, err)
	}
}
