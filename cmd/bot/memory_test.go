package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// memoryChildEnv names the data directory of a child process of
// TestFirstStartMemory: the child starts "bot serve" there, prints what it
// holds, and stops.
const memoryChildEnv = "PARLEY_TEST_MEMORY_CHILD"

// TestFirstStartMemory starts "bot serve" twice on one new data directory,
// each time in a new process: the first start trains the NLU model (on
// small data) and the routing and satisfaction models, the second loads
// them. Once serving, the first must hold no more than 1.5 times the heap
// memory the second holds. The measure is the heap's memory taken from the
// OS and not given back (HeapSys - HeapReleased: what the heap adds to the
// resident size), after a collection; the live heap (HeapInuse) of both is
// alike even when training's garbage is kept from the OS, which is what
// made the first start hold 15 times the memory of a restart.
func TestFirstStartMemory(t *testing.T) {
	if dir := os.Getenv(memoryChildEnv); dir != "" {
		memoryChild(t, dir)
		return
	}
	dir := t.TempDir()
	domain := filepath.Join(dir, "domain.yml")
	if err := os.WriteFile(domain, []byte(tinyDomain), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	first := heldBy(t, data, domain)
	if _, err := os.Stat(filepath.Join(data, "model", "routing.json")); err != nil {
		t.Fatalf("the first start trained no routing model: %v", err)
	}
	second := heldBy(t, data, domain)
	t.Logf("heap held once serving: first start %.1f MB, restart %.1f MB", mb(first), mb(second))
	if float64(first) > 1.5*float64(second) {
		t.Errorf("the first start holds %.1f MB of heap, the restart %.1f MB: more than 1.5 times", mb(first), mb(second))
	}
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// heldBy runs this test in a child process that serves data and returns the
// heap memory the child held once serving.
func heldBy(t *testing.T, data, domain string) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFirstStartMemory$", "-test.count=1")
	cmd.Env = append(os.Environ(), memoryChildEnv+"="+data, "PARLEY_TEST_MEMORY_DOMAIN="+domain)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "heap held: "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("the child said nothing of its heap:\n%s", out.String())
	return 0
}

// memoryChild is the child's side: serve, measure, stop.
func memoryChild(t *testing.T, data string) {
	demoNLU = func() []byte { return []byte(tinyNLU) }
	s := startServe(t, "--data-dir", data, "--domain", os.Getenv("PARLEY_TEST_MEMORY_DOMAIN"))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("heap held: %d\n", ms.HeapSys-ms.HeapReleased)
	s.stop(t)
}
