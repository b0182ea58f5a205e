package data

import (
	"os"
)

// Status is what `hw1 doctor` prints for each dataset file.
type Status struct {
	// Name is the file's path in a data directory, e.g. "regression/train_data.csv".
	Name string
	// Path is where it was found ("" when not found).
	Path string
	// Found says the file exists in one of the places looked at.
	Found bool
	// Verified says it parsed and its checksum matched (for a CSV of the
	// data directory, the checksum of its values: other line ends count).
	Verified bool
	// UserData says it is in the data directory, parses, and is not the
	// dataset's file: the loaders use it, with a warning. Verified is false
	// and Err nil then.
	UserData bool
	// Err says why it is not found or not verified.
	Err error
}

// Check locates and verifies every file of both datasets, as the loaders
// would, without downloading.
func Check(opts Options) []Status {
	opts.NoDownload = true
	out := make([]Status, 0, len(allFiles))
	for _, f := range allFiles {
		st := Status{Name: f.rel}
		locs, cacheErr, err := opts.locations(f)
		var looked []string
		for _, loc := range locs {
			looked = append(looked, loc.path)
			if _, err := os.Stat(loc.path); err != nil {
				continue
			}
			st.Path, st.Found = loc.path, true
			var p provenance
			if f.magic == 0 {
				_, p, st.Err = loadCSV(loc.path, f, loc.own)
			} else {
				_, p, st.Err = loadIDX(loc.path, f, loc.own)
			}
			st.Err = loc.strictHint(st.Err)
			st.UserData = st.Err == nil && p == userData
			st.Verified = st.Err == nil && !st.UserData
			break
		}
		switch {
		case err != nil:
			st.Err = err
		case !st.Found:
			st.Err = notFound(looked, cacheErr)
		}
		out = append(out, st)
	}
	return out
}
