package kb

import (
	"math"
	"testing"
)

func TestFit(t *testing.T) {
	// Right answers have high scores and coverage, wrong ones low, with an
	// overlap in the middle.
	var samples []Sample
	for i := range 40 {
		x := float64(i) / 4 // 0..9.75
		samples = append(samples, Sample{Score: x, Margin: x / 2, Coverage: math.Min(1, x/8), Correct: i >= 16 && i != 25})
	}
	c := Fit(samples, 0.05)
	if c.Score <= 0 && c.Coverage <= 0 && c.Margin <= 0 {
		t.Fatalf("fit %+v: confidence should grow with the features", c)
	}
	lo, hi := c.Confidence(1, 0.5, 0.1), c.Confidence(9, 4.5, 1)
	if !(lo < 0.2 && hi > 0.8) {
		t.Errorf("confidence %.3f for a weak answer, %.3f for a strong one", lo, hi)
	}
	answered, wrong := 0, 0
	for _, s := range samples {
		if c.Confidence(s.Score, s.Margin, s.Coverage) >= c.Threshold {
			answered++
			if !s.Correct {
				wrong++
			}
		}
	}
	if answered == 0 || float64(wrong) > 0.05*float64(answered) {
		t.Errorf("threshold %.3f answers %d with %d wrong", c.Threshold, answered, wrong)
	}
	if answered < 20 {
		t.Errorf("threshold %.3f answers only %d of 23 right ones: not the lowest", c.Threshold, answered)
	}
}

func TestFitEdgeCases(t *testing.T) {
	if Fit(nil, 0.05) != DefaultCalibration {
		t.Error("no samples should give DefaultCalibration")
	}
	allWrong := []Sample{{Score: 1}, {Score: 2}, {Score: 3}}
	if c := Fit(allWrong, 0.05); c.Threshold != 1 {
		t.Errorf("all wrong: threshold %g, want 1 (answer nothing)", c.Threshold)
	}
	same := []Sample{{Score: 2, Correct: true}, {Score: 2, Correct: true}}
	c := Fit(same, 0.05)
	if math.IsNaN(c.Bias) || c.Confidence(2, 0, 0) < c.Threshold {
		t.Errorf("constant features: %+v", c)
	}
}

// TestFitCV: the weights are Fit's; the threshold keeps the held-out
// wrong share at or under the limit while answering some; a limit of 0
// answers only right ones held out; the result does not depend on the run.
func TestFitCV(t *testing.T) {
	// Right answers score high; some in the middle band are wrong.
	var samples []Sample
	for i := range 120 {
		j := i % 40
		x := float64(j) / 4
		samples = append(samples, Sample{Score: x, Margin: x / 2, Coverage: math.Min(1, x/8), Correct: j >= 16 && (j >= 26 || i%3 != 0)})
	}
	c, cv := FitCV(samples, 0.15)
	fit := Fit(samples, 0.15)
	if c.Score != fit.Score || c.Margin != fit.Margin || c.Coverage != fit.Coverage || c.Bias != fit.Bias {
		t.Errorf("weights %+v, Fit's %+v", c, fit)
	}
	if cv.Samples != len(samples) || cv.Answered == 0 || cv.Answered > cv.Samples || cv.WrongRate() > 0.15 {
		t.Errorf("limit 0.15: %v", cv)
	}
	if c2, cv2 := FitCV(samples, 0.15); c2 != c || cv2 != cv {
		t.Errorf("second run %+v %v, first %+v %v", c2, cv2, c, cv)
	}
	strict, scv := FitCV(samples, 0)
	if scv.Wrong != 0 || strict.Threshold < c.Threshold {
		t.Errorf("limit 0: %v, threshold %v (limit 0.15: %v)", scv, strict.Threshold, c.Threshold)
	}
	if _, cv := FitCV(nil, 0.15); cv.Samples != 0 || cv.Answered != 0 {
		t.Errorf("no samples: %v", cv)
	}
}
