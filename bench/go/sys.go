package main

import (
	"bufio"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// loadAtStart is the 1-minute load average when the process started, before
// it did any work: the load the run met, which the table's noisy rule reads
// (load_avg_1m, read when the run ends, includes the run's own threads).
var loadAtStart = loadAvg1m()

// cores is how many CPUs this process may run on, as nproc counts them (the
// affinity mask), for the noisy rule: a run is noisy when the load at its
// start exceeds half of them.
func cores() int { return runtime.NumCPU() }

// loadAvg1m is the 1-minute load average, NaN-free (-1 when unreadable) so
// that it always encodes as JSON.
func loadAvg1m() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// peakRSSMiB is this process's peak resident set size so far (VmHWM), the
// same quantity as the PyTorch scripts' ru_maxrss: every run is its own
// process, so it is the peak of the measured work.
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 1 {
				kib, err := strconv.ParseFloat(fields[0], 64)
				if err == nil {
					return kib / 1024
				}
			}
		}
	}
	return -1
}

// cpuSeconds is the user+system CPU time of this process, all threads
// (XLA's pool included): on a loaded machine it measures the work much better
// than wall time does.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// timer measures the wall and CPU seconds of a piece of work.
type timer struct {
	start time.Time
	cpu0  float64
}

func startTimer() timer { return timer{start: time.Now(), cpu0: cpuSeconds()} }

// stop returns wall and CPU seconds since startTimer, rounded to the
// millisecond.
func (t timer) stop() (wall, cpu float64) {
	return round3(time.Since(t.start).Seconds()), round3(cpuSeconds() - t.cpu0)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
