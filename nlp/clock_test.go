package nlp

import "time"

// withClock returns a copy of m that reads the time from now.
func (m *Model) withClock(now func() time.Time) *Model {
	c := *m
	c.now = now
	return &c
}
