#include "textflag.h"

// The Adam kernels of adam_amd64.go, four weights at a time with SSE (part
// of every amd64 processor). They do the operations of the scalar loops in
// adam.go in the same order, without fused multiply-adds, and SQRTPS and
// DIVPS round as SQRTSS and DIVSS do: the results are bit for bit the same.
//
// ms holds m and s interleaved: [m0 s0 m1 s1] [m2 s2 m3 s3] are split with
// SHUFPS into [m0 m1 m2 m3] and [s0 s1 s2 s3], and joined again with
// UNPCKLPS and UNPCKHPS.
//
// The constants k point to (see adamConsts): c1, c1m, c2, c2m, eps, lr,
// scale, b1, b2 at offsets 0, 4, ..., 32.

// func adamPlainSSE(w, ms, grad *float32, n int, k *adamConsts)
TEXT ·adamPlainSSE(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), DI
	MOVQ ms+8(FP), SI
	MOVQ grad+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), AX
	MOVSS 0(AX), X10
	SHUFPS $0, X10, X10 // c1
	MOVSS 4(AX), X11
	SHUFPS $0, X11, X11 // c1m
	MOVSS 8(AX), X12
	SHUFPS $0, X12, X12 // c2
	MOVSS 12(AX), X13
	SHUFPS $0, X13, X13 // c2m
	MOVSS 16(AX), X14
	SHUFPS $0, X14, X14 // eps
	MOVSS 20(AX), X15
	SHUFPS $0, X15, X15 // lr
	SHRQ $2, CX
	JZ plainDone

plainLoop:
	MOVUPS 0(SI), X0   // m0 s0 m1 s1
	MOVUPS 16(SI), X1  // m2 s2 m3 s3
	MOVAPS X0, X2
	SHUFPS $0x88, X1, X2 // m
	SHUFPS $0xDD, X1, X0 // s
	MOVUPS 0(DX), X3     // g

	// m' = c1*m + c1m*g
	MULPS X10, X2
	MOVAPS X3, X4
	MULPS X11, X4
	ADDPS X4, X2

	// s' = sqrt(c2*s*s + c2m*g*g)
	MOVAPS X0, X5
	MULPS X12, X0
	MULPS X5, X0
	MOVAPS X3, X4
	MULPS X13, X4
	MULPS X3, X4
	ADDPS X4, X0
	SQRTPS X0, X0

	// w -= lr*m' / (s'+eps)
	MOVAPS X0, X6
	ADDPS X14, X6
	MOVAPS X2, X7
	MULPS X15, X7
	DIVPS X6, X7
	MOVUPS 0(DI), X8
	SUBPS X7, X8
	MOVUPS X8, 0(DI)

	MOVAPS X2, X9
	UNPCKLPS X0, X9
	UNPCKHPS X0, X2
	MOVUPS X9, 0(SI)
	MOVUPS X2, 16(SI)

	ADDQ $16, DI
	ADDQ $32, SI
	ADDQ $16, DX
	DECQ CX
	JNZ plainLoop

plainDone:
	RET

// func adamCatchUpSSE(w, ms, grad *float32, n int, k *adamConsts)
TEXT ·adamCatchUpSSE(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), DI
	MOVQ ms+8(FP), SI
	MOVQ grad+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), AX
	MOVSS 4(AX), X11
	SHUFPS $0, X11, X11 // c1m
	MOVSS 12(AX), X13
	SHUFPS $0, X13, X13 // c2m
	MOVSS 16(AX), X14
	SHUFPS $0, X14, X14 // eps
	MOVSS 20(AX), X15
	SHUFPS $0, X15, X15 // lr
	MOVSS 24(AX), X12
	SHUFPS $0, X12, X12 // scale
	MOVSS 28(AX), X10
	SHUFPS $0, X10, X10 // b1
	SHRQ $2, CX
	JZ catchDone

catchLoop:
	MOVUPS 0(SI), X0
	MOVUPS 16(SI), X1
	MOVAPS X0, X2
	SHUFPS $0x88, X1, X2 // m
	SHUFPS $0xDD, X1, X0 // s
	MOVUPS 0(DX), X3     // g

	// m' = b1*m + c1m*g
	MOVAPS X2, X4
	MULPS X10, X4
	MOVAPS X3, X5
	MULPS X11, X5
	ADDPS X5, X4 // m'

	// s' = sqrt(b2*s*s + c2m*g*g)
	MOVSS 32(AX), X5
	SHUFPS $0, X5, X5 // b2
	MULPS X0, X5
	MULPS X0, X5
	MOVAPS X3, X6
	MULPS X13, X6
	MULPS X3, X6
	ADDPS X6, X5
	SQRTPS X5, X5 // s'

	// den = s+eps, den' = s'+eps
	ADDPS X14, X0 // den
	MOVAPS X5, X6
	ADDPS X14, X6 // den'

	// w -= (scale*m*den' + lr*m'*den) / (den*den')
	MULPS X12, X2
	MULPS X6, X2
	MOVAPS X4, X7
	MULPS X15, X7
	MULPS X0, X7
	ADDPS X7, X2
	MULPS X6, X0
	DIVPS X0, X2
	MOVUPS 0(DI), X8
	SUBPS X2, X8
	MOVUPS X8, 0(DI)

	MOVAPS X4, X9
	UNPCKLPS X5, X9
	UNPCKHPS X5, X4
	MOVUPS X9, 0(SI)
	MOVUPS X4, 16(SI)

	ADDQ $16, DI
	ADDQ $32, SI
	ADDQ $16, DX
	DECQ CX
	JNZ catchLoop

catchDone:
	RET

// func axpySSE(a float32, x, y *float32, n int)
// y[i] += a*x[i] for the first n (a multiple of 4) elements: a product then
// a sum, rounded each, as Axpy's loop does.
TEXT ·axpySSE(SB), NOSPLIT, $0-32
	MOVSS a+0(FP), X0
	SHUFPS $0, X0, X0
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	JZ axpyDone

axpyLoop8:
	CMPQ CX, $2
	JLT axpyLoop4
	MOVUPS 0(SI), X1
	MOVUPS 16(SI), X2
	MULPS X0, X1
	MULPS X0, X2
	MOVUPS 0(DI), X3
	MOVUPS 16(DI), X4
	ADDPS X1, X3
	ADDPS X2, X4
	MOVUPS X3, 0(DI)
	MOVUPS X4, 16(DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $2, CX
	JMP axpyLoop8

axpyLoop4:
	TESTQ CX, CX
	JZ axpyDone
	MOVUPS 0(SI), X1
	MULPS X0, X1
	MOVUPS 0(DI), X3
	ADDPS X1, X3
	MOVUPS X3, 0(DI)

axpyDone:
	RET
