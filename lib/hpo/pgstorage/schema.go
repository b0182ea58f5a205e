package pgstorage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The schema this storage reads and writes: Optuna's RDBStorage schema as Optuna 5.0.0 creates
// it on PostgreSQL (optuna/storages/_rdb/models.py, SQLAlchemy's create_all, then an alembic
// stamp of the head revision). testdata/optuna-5.0.0-schema.sql is pg_dump's view of a
// database that Optuna 5.0.0 set up; TestSchemaMatchesOptuna compares the one created here with
// it (see testdata/README.md to regenerate it).
const (
	// OptunaVersion is the Optuna release whose schema and formats this storage follows; it is
	// written to version_info.library_version when this storage creates the schema, as Optuna
	// writes its own version there.
	OptunaVersion = "5.0.0"
	// AlembicRevision is alembic_version.version_num of that schema (Optuna's head revision).
	AlembicRevision = "v3.2.0.a"
	// SchemaVersion is version_info.schema_version, frozen by Optuna at 12 since alembic took
	// over.
	SchemaVersion = 12
)

// olderRevisions are Optuna's earlier alembic revisions, newest first: a schema at one of them
// is refused with a hint to upgrade it with Optuna.
var olderRevisions = []string{"v3.0.0.d", "v3.0.0.c", "v3.0.0.b", "v3.0.0.a", "v2.6.0.a", "v2.4.0.a", "v1.3.0.a", "v1.2.0.a", "v0.9.0.a"}

// ErrSchemaVersion is returned (wrapped, naming the revision found and the one expected) by Open
// when the database holds an Optuna schema at another alembic revision, or a partial one.
var ErrSchemaVersion = errors.New("the database's Optuna schema is not the version this storage knows")

// schemaDDL creates the schema. Names, types, defaults, constraints and indexes are those that
// SQLAlchemy gives Optuna's models on PostgreSQL, so that Optuna opens the database without
// creating or migrating anything.
var schemaDDL = []string{
	`CREATE TYPE studydirection AS ENUM ('NOT_SET', 'MINIMIZE', 'MAXIMIZE')`,
	`CREATE TYPE trialstate AS ENUM ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING')`,
	`CREATE TYPE trialvaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG')`,
	`CREATE TYPE trialintermediatevaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG', 'NAN')`,
	`CREATE TABLE studies (
		study_id SERIAL NOT NULL,
		study_name VARCHAR(512) NOT NULL,
		PRIMARY KEY (study_id))`,
	`CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)`,
	`CREATE TABLE version_info (
		version_info_id INTEGER NOT NULL,
		schema_version INTEGER,
		library_version VARCHAR(256),
		PRIMARY KEY (version_info_id),
		CHECK (version_info_id=1))`,
	`CREATE TABLE study_directions (
		study_direction_id SERIAL NOT NULL,
		direction studydirection NOT NULL,
		study_id INTEGER NOT NULL,
		objective INTEGER NOT NULL,
		PRIMARY KEY (study_direction_id),
		UNIQUE (study_id, objective),
		FOREIGN KEY(study_id) REFERENCES studies (study_id))`,
	`CREATE TABLE study_user_attributes (
		study_user_attribute_id SERIAL NOT NULL,
		study_id INTEGER,
		key VARCHAR(512),
		value_json TEXT,
		PRIMARY KEY (study_user_attribute_id),
		UNIQUE (study_id, key),
		FOREIGN KEY(study_id) REFERENCES studies (study_id))`,
	`CREATE TABLE study_system_attributes (
		study_system_attribute_id SERIAL NOT NULL,
		study_id INTEGER,
		key VARCHAR(512),
		value_json TEXT,
		PRIMARY KEY (study_system_attribute_id),
		UNIQUE (study_id, key),
		FOREIGN KEY(study_id) REFERENCES studies (study_id))`,
	`CREATE TABLE trials (
		trial_id SERIAL NOT NULL,
		number INTEGER,
		study_id INTEGER,
		state trialstate NOT NULL,
		datetime_start TIMESTAMP WITHOUT TIME ZONE,
		datetime_complete TIMESTAMP WITHOUT TIME ZONE,
		PRIMARY KEY (trial_id),
		FOREIGN KEY(study_id) REFERENCES studies (study_id))`,
	`CREATE INDEX ix_trials_study_id ON trials (study_id)`,
	`CREATE TABLE trial_user_attributes (
		trial_user_attribute_id SERIAL NOT NULL,
		trial_id INTEGER,
		key VARCHAR(512),
		value_json TEXT,
		PRIMARY KEY (trial_user_attribute_id),
		UNIQUE (trial_id, key),
		FOREIGN KEY(trial_id) REFERENCES trials (trial_id))`,
	`CREATE TABLE trial_system_attributes (
		trial_system_attribute_id SERIAL NOT NULL,
		trial_id INTEGER,
		key VARCHAR(512),
		value_json TEXT,
		PRIMARY KEY (trial_system_attribute_id),
		UNIQUE (trial_id, key),
		FOREIGN KEY(trial_id) REFERENCES trials (trial_id))`,
	`CREATE TABLE trial_params (
		param_id SERIAL NOT NULL,
		trial_id INTEGER,
		param_name VARCHAR(512),
		param_value FLOAT(53),
		distribution_json TEXT,
		PRIMARY KEY (param_id),
		UNIQUE (trial_id, param_name),
		FOREIGN KEY(trial_id) REFERENCES trials (trial_id))`,
	`CREATE TABLE trial_values (
		trial_value_id SERIAL NOT NULL,
		trial_id INTEGER NOT NULL,
		objective INTEGER NOT NULL,
		value FLOAT(53),
		value_type trialvaluetype NOT NULL,
		PRIMARY KEY (trial_value_id),
		UNIQUE (trial_id, objective),
		FOREIGN KEY(trial_id) REFERENCES trials (trial_id))`,
	`CREATE TABLE trial_intermediate_values (
		trial_intermediate_value_id SERIAL NOT NULL,
		trial_id INTEGER NOT NULL,
		step INTEGER NOT NULL,
		intermediate_value FLOAT(53),
		intermediate_value_type trialintermediatevaluetype NOT NULL,
		PRIMARY KEY (trial_intermediate_value_id),
		UNIQUE (trial_id, step),
		FOREIGN KEY(trial_id) REFERENCES trials (trial_id))`,
	`CREATE TABLE trial_heartbeats (
		trial_heartbeat_id SERIAL NOT NULL,
		trial_id INTEGER NOT NULL,
		heartbeat TIMESTAMP WITHOUT TIME ZONE NOT NULL,
		PRIMARY KEY (trial_heartbeat_id),
		UNIQUE (trial_id),
		FOREIGN KEY(trial_id) REFERENCES trials (trial_id))`,
	// Alembic's own table, with the constraint name alembic gives it.
	`CREATE TABLE alembic_version (
		version_num VARCHAR(32) NOT NULL,
		CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))`,
}

// optunaTables are the tables of the schema; finding some but not all is a partial schema.
var optunaTables = []string{"studies", "version_info", "study_directions", "study_user_attributes",
	"study_system_attributes", "trials", "trial_user_attributes", "trial_system_attributes",
	"trial_params", "trial_values", "trial_intermediate_values", "trial_heartbeats", "alembic_version"}

// schemaLockKey is the advisory lock that serializes schema creation between processes opening
// an empty database at once (an arbitrary constant: "optuna" in ASCII).
const schemaLockKey = 0x6f7074756e61

// ensureSchema creates the schema in an empty database, or checks the one there.
func ensureSchema(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLockKey)); err != nil {
		return fmt.Errorf("lock the schema: %w", err)
	}
	var present []string
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_class c
		WHERE c.relkind IN ('r', 'p') AND c.relname = ANY($1) AND pg_table_is_visible(c.oid)`, optunaTables)
	if err != nil {
		return fmt.Errorf("look for Optuna's tables: %w", err)
	}
	present, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("look for Optuna's tables: %w", err)
	}
	if len(present) == 0 {
		// One round trip (Exec without arguments uses the simple protocol, which takes several
		// statements), then the rows Optuna writes when it sets up a database.
		stmts := append(append([]string(nil), schemaDDL...),
			fmt.Sprintf(`INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, %d, '%s')`, SchemaVersion, OptunaVersion),
			fmt.Sprintf(`INSERT INTO alembic_version (version_num) VALUES ('%s')`, AlembicRevision))
		if _, err := tx.Exec(ctx, strings.Join(stmts, ";\n")); err != nil {
			return fmt.Errorf("create Optuna's schema: %w", err)
		}
		return nil
	}
	return checkSchema(ctx, tx, present)
}

// checkSchema refuses a schema that is not Optuna 5.0.0's: a missing table, another alembic
// revision, or another version_info.schema_version.
func checkSchema(ctx context.Context, tx pgx.Tx, present []string) error {
	have := map[string]bool{}
	for _, t := range present {
		have[t] = true
	}
	var missing []string
	for _, t := range optunaTables {
		if !have[t] {
			missing = append(missing, t)
		}
	}
	if have["alembic_version"] {
		var revs []string
		rows, err := tx.Query(ctx, `SELECT version_num FROM alembic_version`)
		if err != nil {
			return fmt.Errorf("read alembic_version: %w", err)
		}
		if revs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("read alembic_version: %w", err)
		}
		switch {
		case len(revs) == 0:
			return fmt.Errorf("alembic_version is empty, want revision %s (Optuna %s): %w", AlembicRevision, OptunaVersion, ErrSchemaVersion)
		case len(revs) > 1:
			return fmt.Errorf("alembic_version holds %d revisions %v, want only %s (Optuna %s): %w", len(revs), revs, AlembicRevision, OptunaVersion, ErrSchemaVersion)
		case revs[0] != AlembicRevision:
			hint := "it is newer than this storage or not Optuna's: open it with the Optuna release that wrote it, or use another database"
			for _, old := range olderRevisions {
				if revs[0] == old {
					hint = fmt.Sprintf("it is older: upgrade it with `optuna storage upgrade --storage URL` (Optuna %s)", OptunaVersion)
				}
			}
			return fmt.Errorf("schema at alembic revision %s, this storage knows only %s (Optuna %s); %s: %w", revs[0], AlembicRevision, OptunaVersion, hint, ErrSchemaVersion)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the database has some of Optuna's tables but not %s (a partial or foreign schema; expected revision %s, Optuna %s): %w",
			strings.Join(missing, ", "), AlembicRevision, OptunaVersion, ErrSchemaVersion)
	}
	var version *int32
	err := tx.QueryRow(ctx, `SELECT schema_version FROM version_info WHERE version_info_id = 1`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		// Optuna writes this row when it first opens a database; do as it does.
		_, err = tx.Exec(ctx, `INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, $1, $2)`, SchemaVersion, OptunaVersion)
		if err != nil {
			return fmt.Errorf("write version_info: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read version_info: %w", err)
	}
	if version == nil || *version != SchemaVersion {
		found := "NULL"
		if version != nil {
			found = fmt.Sprint(*version)
		}
		return fmt.Errorf("version_info.schema_version is %s, want %d (Optuna %s): %w", found, SchemaVersion, OptunaVersion, ErrSchemaVersion)
	}
	return nil
}
