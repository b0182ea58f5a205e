package data

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultCacheDir is $HW1_CACHE_DIR, else data/cache at the root of the
// repository when the working directory is inside it, else
// os.UserCacheDir()/dlworkbench-hw1.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(EnvCacheDir); d != "" {
		return d, nil
	}
	if wd, err := os.Getwd(); err == nil {
		if root, err := FindRepoRoot(wd); err == nil {
			return filepath.Join(root, "data", "cache"), nil
		}
	}
	uc, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set $%s): %w", EnvCacheDir, err)
	}
	return filepath.Join(uc, "dlworkbench-hw1"), nil
}

// FindRepoRoot walks up from start to the directory whose go.mod declares
// ModulePath.
func FindRepoRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(b, ModulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above %s", ModulePath, start)
		}
		dir = parent
	}
}

func declaresModule(gomod []byte, module string) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == module
		}
	}
	return false
}
