package intent

// adamConsts are the scalars the kernels read, in the layout adam_amd64.s
// expects.
type adamConsts struct {
	c1, c1m, c2, c2m, eps float32 // adamB1, 1-adamB1, adamB2, 1-adamB2, adamEps
	lr, scale, b1, b2     float32 // the step's: see lazyAdam.step
}

// The kernels update the first n weights (n a multiple of 4) of w, their
// moments ms and gradients g as the scalar loops of lazyAdam.step do, four
// at a time: adamPlainSSE for a row that is up to date, adamCatchUpSSE for
// one that catches up. Adam is most of a training step, and the square
// root and the division of every weight share one unit of the processor:
// four at a time, they take a third of the time.
//
//go:noescape
func adamPlainSSE(w, ms, grad *float32, n int, k *adamConsts)

//go:noescape
func adamCatchUpSSE(w, ms, grad *float32, n int, k *adamConsts)

// useKernels turns the kernels (these two and axpySSE) on; tests turn
// them off to compare.
var useKernels = true

// kernelLen is how many weights of a row of n the kernels update: all but
// the last n%4.
func kernelLen(n int) int {
	if !useKernels {
		return 0
	}
	return n &^ 3
}

//go:noescape
func axpySSE(a float32, x, y *float32, n int)
