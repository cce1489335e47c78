package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memProfileEnv names the file that "bot train" writes a heap profile to
// each time the heap reaches a new peak, so that the profile left at the end
// shows what was alive at the highest point of training. It is for
// developers and undocumented in the help text.
const memProfileEnv = "PARLEY_MEMPROFILE"

// cpuProfileEnv names the file that "bot train" writes a CPU profile of
// the whole training to: for developers, like memProfileEnv.
const cpuProfileEnv = "PARLEY_CPUPROFILE"

// startCPUProfile starts the CPU profile; stop ends it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// memWatch samples the heap while training runs and keeps its peak: the
// runtime keeps no high-water mark of its own, and the heap at the end of
// training is far below its peak.
type memWatch struct {
	path string
	done chan struct{}
	wg   sync.WaitGroup

	once sync.Once
	peak uint64 // heap in use at the highest sample; written by the sampler goroutine, read after wg.Wait
	err  error  // the first failure to write the profile; as peak
}

// memSampleEvery is how often memWatch samples: short enough to catch the
// peak of a training step, long enough to cost nothing.
const memSampleEvery = 50 * time.Millisecond

// profileGrowth is how much the heap must grow past the last profiled peak
// before the profile is written again, so that a slowly rising heap does not
// write it at every sample.
const profileGrowth = 1.05

// startMemWatch starts sampling. When profile is not empty, a heap profile
// is written there at every new peak (one profileGrowth above the last).
func startMemWatch(profile string) *memWatch {
	w := &memWatch{path: profile, done: make(chan struct{})}
	w.wg.Go(w.run)
	return w
}

func (w *memWatch) run() {
	// Heap in use, as runtime.MemStats.HeapInuse counts it: the spans of
	// objects, live or not yet swept, and their unused tails.
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	tick := time.NewTicker(memSampleEvery)
	defer tick.Stop()
	var profiled uint64
	for {
		metrics.Read(sample)
		inUse := sample[0].Value.Uint64() + sample[1].Value.Uint64()
		w.peak = max(w.peak, inUse)
		if w.path != "" && w.err == nil && float64(inUse) > profileGrowth*float64(profiled) {
			profiled = inUse
			w.err = writeHeapProfile(w.path)
		}
		select {
		case <-w.done:
			return
		case <-tick.C:
		}
	}
}

// stop ends the sampling and returns the peak heap in use, and the error of
// writing the profile. Calling it again returns the same.
func (w *memWatch) stop() (uint64, error) {
	w.once.Do(func() {
		close(w.done)
		w.wg.Wait()
	})
	return w.peak, w.err
}

// writeHeapProfile writes the heap profile (as of the last collection) to
// path, replacing the previous one.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write heap profile: %w", err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("write heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write heap profile: %w", err)
	}
	return nil
}

// peakRSS returns the process's peak resident size (VmHWM), which counts
// what the heap samples miss: memory of the runtime itself, stacks, and the
// heap between samples. ok is false where /proc/self/status has none
// (outside Linux).
func peakRSS() (bytes uint64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, found := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !found {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// printPeakMemory stops w and prints the peak heap and resident memory of
// the process, as the training commands end.
func printPeakMemory(m *Main, w *memWatch) error {
	heap, err := w.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "peak memory: %d MiB heap in use", heap>>20)
	if hwm, ok := peakRSS(); ok {
		fmt.Fprintf(m.Stdout, ", %d MiB resident (VmHWM)", hwm>>20)
	}
	fmt.Fprintln(m.Stdout)
	return nil
}
