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

// TestChooseMaxWrong: cross-validation counts every held-out sample once;
// the choice is the candidate answering the most held-out samples with at
// most limit wrong; a limit nothing meets (short of answering nothing)
// picks a candidate that answers nothing.
func TestChooseMaxWrong(t *testing.T) {
	// Right answers score high; some in the middle band are wrong.
	var samples []Sample
	for i := range 120 {
		j := i % 40
		x := float64(j) / 4
		samples = append(samples, Sample{Score: x, Margin: x / 2, Coverage: math.Min(1, x/8), Correct: j >= 16 && (j >= 26 || i%3 != 0)})
	}
	best, ok, all := ChooseMaxWrong(samples, 0.15)
	if !ok || len(all) != len(MaxWrongGrid) {
		t.Fatalf("ok %v, %d candidates", ok, len(all))
	}
	for _, cv := range all {
		if cv.Answered > len(samples) || cv.Wrong > cv.Answered {
			t.Errorf("%+v: more than the %d samples", cv, len(samples))
		}
		if cv.WrongRate() <= 0.15 && cv.Answered > best.Answered {
			t.Errorf("chose %+v over %+v", best, cv)
		}
	}
	if best.Answered == 0 || best.WrongRate() > 0.15 {
		t.Errorf("chose %+v", best)
	}
	if cv := CrossValidate(samples, 0.05); cv != all[4] {
		t.Errorf("CrossValidate(0.05) = %+v, ChooseMaxWrong saw %+v", cv, all[4])
	}
	strict, ok, _ := ChooseMaxWrong(samples, 0)
	if ok && strict.Wrong != 0 {
		t.Errorf("limit 0 chose %+v", strict)
	}
}
