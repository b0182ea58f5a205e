package backend

import (
	"runtime"
	"runtime/debug"
)

// Versions returns the versions of Go, GoMLX, its compute backends and go-xla
// linked into this program ("go", "gomlx", "compute", "go-xla"); a module not
// linked is "not linked".
func Versions() map[string]string {
	v := map[string]string{"go": runtime.Version(), "gomlx": "not linked", "compute": "not linked", "go-xla": "not linked"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, dep := range info.Deps {
		key := ""
		switch dep.Path {
		case "github.com/gomlx/gomlx":
			key = "gomlx"
		case "github.com/gomlx/compute":
			key = "compute"
		case "github.com/gomlx/go-xla":
			key = "go-xla"
		default:
			continue
		}
		v[key] = dep.Version
		if dep.Replace != nil {
			v[key] += " (replaced by " + dep.Replace.Path + " " + dep.Replace.Version + ")"
		}
	}
	return v
}
