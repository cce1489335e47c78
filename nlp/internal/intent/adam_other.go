//go:build !amd64

package intent

// adamConsts are the scalars of a step (see adam_amd64.go).
type adamConsts struct {
	c1, c1m, c2, c2m, eps float32
	lr, scale, b1, b2     float32
}

// Other processors have no kernel: the scalar loops do every weight.
func adamPlainSSE(w, ms, grad *float32, n int, k *adamConsts)   {}
func adamCatchUpSSE(w, ms, grad *float32, n int, k *adamConsts) {}

var useKernels = false

func kernelLen(int) int { return 0 }

func axpySSE(a float32, x, y *float32, n int) {}
