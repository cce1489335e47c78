package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
)

func TestZZMemProbe(t *testing.T) {
	if os.Getenv("MEMPROBE") == "" {
		t.Skip()
	}
	ctx := context.Background()
	dir := os.Getenv("MEMPROBE")
	m := NewMain(io.Discard, io.Discard)
	model, mdir, db, err := openModelAndStore(ctx, m, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	domain, err := loadDomain("", model.Labels())
	if err != nil {
		t.Fatal(err)
	}
	if err := ensureTriageModels(ctx, m, db, model, domain, mdir); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("HeapInuse %d MB HeapAlloc %d MB Sys %d MB", ms.HeapInuse>>20, ms.HeapAlloc>>20, ms.Sys>>20)
	f, _ := os.Create(filepath.Join("/tmp", "probe-"+filepath.Base(dir)+".heap"))
	pprof.Lookup("heap").WriteTo(f, 0)
	f.Close()
	runtime.KeepAlive(model)
	db.Close()
}
