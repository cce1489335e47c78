//go:build race

package encoder

// The race detector slows code several times; latency targets do not hold
// under it.
const raceEnabled = true
