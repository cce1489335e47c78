package models

import (
	"bytes"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestSqDist(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []float64
		want float64
	}{
		{"empty", nil, nil, 0},
		{"same point", []float64{1.5, -2}, []float64{1.5, -2}, 0},
		{"3-4-5", []float64{0, 0}, []float64{3, 4}, 25},
		{"symmetric", []float64{3, 4}, []float64{0, 0}, 25},
		{"longer b ignored past a", []float64{1}, []float64{4, 100}, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SqDist(tc.a, tc.b); got != tc.want {
				t.Errorf("SqDist(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestKMeansRecoversBlobs(t *testing.T) {
	centres := [][]float64{{0, 0}, {10, 0}, {0, 10}}
	var X [][]float64
	for i := 0; i < 90; i++ {
		c := centres[i%3]
		X = append(X, []float64{c[0] + math.Sin(float64(i)), c[1] + math.Cos(float64(i)*1.3)})
	}
	m := &KMeans{K: 3, Seed: 5}
	if err := m.Fit(X); err != nil {
		t.Fatal(err)
	}
	labels, err := m.Predict(X)
	if err != nil {
		t.Fatal(err)
	}
	// Every blob gets its own cluster.
	seen := map[int]int{}
	for i, l := range labels {
		if prev, ok := seen[i%3]; ok && prev != l {
			t.Fatalf("blob %d split across clusters %d and %d", i%3, prev, l)
		}
		seen[i%3] = l
	}
	if len(map[int]bool{seen[0]: true, seen[1]: true, seen[2]: true}) != 3 {
		t.Fatalf("blobs merged: %v", seen)
	}
	var inertia float64
	for i, x := range X {
		inertia += SqDist(x, m.Centers()[labels[i]])
	}
	if math.Abs(inertia-m.Inertia()) > 1e-9*inertia {
		t.Fatalf("Inertia() = %v, recomputed %v", m.Inertia(), inertia)
	}
}

func TestKMeansSeeds(t *testing.T) {
	X, _ := synth(200, 4, 5, 3)
	fit := func(seed uint64) []byte {
		m := &KMeans{K: 5, NInit: 2, Seed: seed}
		if err := m.Fit(X); err != nil {
			t.Fatal(err)
		}
		return saved(t, m)
	}
	if !bytes.Equal(fit(1), fit(1)) {
		t.Fatal("same seed, different models")
	}
	if bytes.Equal(fit(1), fit(2)) {
		t.Fatal("seeds 1 and 2 gave identical models; is the seed used?")
	}
}

func TestKMeansOneCluster(t *testing.T) {
	X := [][]float64{{1, 2}, {3, 4}, {5, 0}}
	m := &KMeans{K: 1}
	if err := m.Fit(X); err != nil {
		t.Fatal(err)
	}
	if c := m.Centers()[0]; math.Abs(c[0]-3) > 1e-12 || math.Abs(c[1]-2) > 1e-12 {
		t.Fatalf("centre %v, want the mean [3 2]", c)
	}
}

func TestPCAProperties(t *testing.T) {
	tall, _ := synth(150, 5, 3, 4)
	wide, _ := synth(8, 12, 2, 5)
	cases := []struct {
		name string
		X    [][]float64
		nc   int
	}{
		{"more rows than features (scatter matrix)", tall, 5},
		{"more features than rows (svd)", wide, 8},
		{"first two of many", tall, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &PCA{NComponents: c.nc}
			if err := m.Fit(c.X); err != nil {
				t.Fatal(err)
			}
			comps := m.Components()
			if len(comps) != c.nc {
				t.Fatalf("%d components, want %d", len(comps), c.nc)
			}
			for i := range comps {
				for j := range comps {
					want := 0.0
					if i == j {
						want = 1
					}
					if d := dot(comps[i], comps[j]); math.Abs(d-want) > 1e-10 {
						t.Fatalf("components %d·%d = %v, want %v", i, j, d, want)
					}
				}
			}
			Z, err := m.Transform(c.X)
			if err != nil {
				t.Fatal(err)
			}
			ev := m.ExplainedVariance()
			var ratio float64
			for k := range ev {
				var v float64
				for _, z := range Z {
					v += z[k] * z[k]
				}
				v /= float64(len(Z) - 1)
				if math.Abs(v-ev[k]) > 1e-9*ev[0] {
					t.Fatalf("variance of projection %d is %v, ExplainedVariance %v", k, v, ev[k])
				}
				if k > 0 && ev[k] > ev[k-1]*(1+1e-12) {
					t.Fatalf("variances not decreasing: %v", ev)
				}
				ratio += m.ExplainedVarianceRatio()[k]
			}
			if c.nc == min(len(c.X), len(c.X[0])) && math.Abs(ratio-1) > 1e-12 {
				t.Fatalf("ratios sum to %v with all components kept", ratio)
			}
		})
	}
}

// TestPCAPathsAgree checks the scatter-matrix eigendecomposition against a
// thin SVD of the same centred data.
func TestPCAPathsAgree(t *testing.T) {
	X, _ := synth(200, 6, 3, 6)
	xm, err := checkRows(X, 0)
	if err != nil {
		t.Fatal(err)
	}
	mean := make([]float64, xm.d)
	for i := 0; i < xm.n; i++ {
		axpy(1/float64(xm.n), xm.row(i), mean)
	}
	for i := 0; i < xm.n; i++ {
		axpy(-1, mean, xm.row(i))
	}
	vals, vecs, total := gramEigen(xm)
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(xm.n, xm.d, xm.v), mat.SVDThin) {
		t.Fatal("svd failed")
	}
	var v mat.Dense
	svd.VTo(&v)
	var sum float64
	for c, s := range svd.Values(nil) {
		sum += s * s
		if math.Abs(vals[c]-s*s) > 1e-9*vals[0] {
			t.Fatalf("eigenvalue %d = %v, squared singular value %v", c, vals[c], s*s)
		}
		var d float64
		for j := 0; j < xm.d; j++ {
			d += vecs.At(j, c) * v.At(j, c)
		}
		if math.Abs(math.Abs(d)-1) > 1e-8 {
			t.Fatalf("vector %d differs: |cos| = %v", c, math.Abs(d))
		}
	}
	if math.Abs(sum-total) > 1e-9*total {
		t.Fatalf("trace %v, sum of squared singular values %v", total, sum)
	}
}
