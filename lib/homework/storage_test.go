package homework

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestStorageKinds: what Config.Storage names, what messages and config.json show of it (never
// the password), and what is refused, naming the field.
func TestStorageKinds(t *testing.T) {
	for _, tc := range []struct {
		storage string
		kind    storageKind
		shown   string
	}{
		{"", inResults, "out/regression_smoke_results/study.journal"},
		{"/data/hw1.journal", inJournal, `journal /data/hw1.journal (study "regression_smoke")`},
		{"postgresql://hw1:pw@db:5432/hw1?sslmode=require", inDatabase, `postgresql://hw1@db:5432/hw1?sslmode=require (study "regression_smoke")`},
		{"postgres://hw1@db/hw1", inDatabase, `postgres://hw1@db/hw1 (study "regression_smoke")`},
		{"postgresql+psycopg2://hw1:pw@db/hw1", inDatabase, `postgresql+psycopg2://hw1@db/hw1 (study "regression_smoke")`},
	} {
		cfg, err := Preset(TaskRegression, "smoke")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Storage = tc.storage
		if err := cfg.Validate(); err != nil {
			t.Errorf("%q: %v", tc.storage, err)
		}
		if got := cfg.storageKind(); got != tc.kind {
			t.Errorf("%q: kind %d, want %d", tc.storage, got, tc.kind)
		}
		if got := cfg.StudyStorage(); got != tc.shown {
			t.Errorf("%q: shown as %q, want %q", tc.storage, got, tc.shown)
		}
		raw, err := json.Marshal(cfg.record())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), ":pw@") {
			t.Errorf("%q: config.json would hold the password: %s", tc.storage, raw)
		}
	}
	for storage, want := range map[string]string{
		"sqlite:///study.db":   `URL scheme "sqlite" is not a storage here`,
		"mysql://u:p@h/db":     `URL scheme "mysql" is not a storage here`,
		"postgresql://u:p@h%/": "(a postgresql:// URL that does not parse) is not a URL",
		"results/":             `"results/" names a folder`,
	} {
		cfg, _ := Preset(TaskRegression, "smoke")
		cfg.Storage = storage
		err := cfg.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "storage" || !strings.Contains(fe.Msg, want) || strings.Contains(fe.Msg, "u:p@") {
			t.Errorf("%q: %v, want a storage error saying %q without the password", storage, err, want)
		}
	}
}

// TestHeartbeatSeconds: the default is Optuna's documented 60 s interval and 120 s grace; a
// configured interval keeps the grace at twice it; values out of bounds are refused.
func TestHeartbeatSeconds(t *testing.T) {
	cfg, _ := Preset(TaskRegression, "smoke")
	if i, g := cfg.heartbeat(); i != time.Minute || g != 2*time.Minute {
		t.Errorf("default heartbeat %s, grace %s; want 1m0s and 2m0s", i, g)
	}
	cfg.HeartbeatSeconds = 1.5
	if i, g := cfg.heartbeat(); i != 1500*time.Millisecond || g != 3*time.Second {
		t.Errorf("heartbeat_seconds 1.5: %s, grace %s", i, g)
	}
	for _, v := range []float64{-1, 0.01, 7200} {
		cfg.HeartbeatSeconds = v
		var fe *FieldError
		if err := cfg.Validate(); !errors.As(err, &fe) || fe.Field != "heartbeat_seconds" {
			t.Errorf("heartbeat_seconds %g: %v, want a heartbeat_seconds error", v, err)
		}
	}
}
