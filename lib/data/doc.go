// Package data provides the two datasets of the homework, ready to train on,
// and the index splits the homework makes of them.
//
// The regression set is the course's CSV (header "input,label", 100 training
// and 100 test points); it is the seed's CSV_dataset, as CSVDataset. The
// classification set is Fashion-MNIST, read from its gzip IDX files into
// Images. Every file is located in this order:
//
//  1. the local data directory (Options.Dir, else $HW1_DATA_DIR), laid out as
//     regression/train_data.csv, regression/test_data.csv, fashion-mnist/*.gz;
//  2. for Fashion-MNIST only, /usr/share/datasets/fashion-mnist (Debian's
//     dataset-fashion-mnist package);
//  3. the cache (Options.CacheDir, else $HW1_CACHE_DIR, else data/cache in the
//     repository, else the user's cache directory), same layout;
//  4. a download from the dataset's origin into the cache, unless
//     Options.NoDownload.
//
// Every file is checked against the sha256 of the data README (the project's
// shared/data/README.md, whose tables are copied into sources.go): the raw
// bytes for the CSVs, the decompressed payload (without the IDX header) for
// Fashion-MNIST, because Debian recompresses the .gz files. What a mismatch
// means depends on where the file is:
//
//   - the system directory, the cache and downloads hold the published files
//     only: a mismatch there is an error, not a reason to look elsewhere, so
//     that a corrupt copy is never silently replaced by another one (a
//     corrupt cache entry is the exception: it is downloaded again when
//     downloads are allowed). Downloads go to a temporary file that is
//     renamed only once verified byte for byte.
//   - the data directory is the user's choice. A CSV there whose bytes differ
//     but whose values are the published ones (saved with CRLF or CR line
//     ends, a byte-order mark, blank lines) is the course's file. Any other
//     file there that parses and passes the checks the homework needs (the
//     IDX magic, 28x28 images, labels 0..9; any number of items) is user
//     data: it is loaded, with one warning line on Options.Log (standard
//     error without one), and Check reports it as UserData.
//
// A file that does not parse is an error wherever it is. The checks run from
// the most specific to the least, so that the error says what is wrong: an
// IDX magic is checked before the dimensions it announces, a label's range
// before the checksum it also breaks.
//
// Splits (Holdout, KFold, StratifiedSubset) return sorted sample indices and
// are reproducible: the same seed gives the same split on every platform and
// Go version, because the shuffle is this package's own Fisher-Yates over
// math/rand/v2's PCG (see Permutation).
//
// Errors on malformed input are returned, never panicked, and name the file
// and the line, field or byte offset (see FileError).
//
// This package is not for batching, normalising or augmenting data for a
// model, nor for training: that is lib/nn and lib/cv. It never imports them.
package data
