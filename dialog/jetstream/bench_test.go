package jetstream_test

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPublish measures events a second through the stream: b.N
// message events over 1,000 conversations published by one node and
// received by another (file storage, de-duplication on), at most 2,000
// in flight, from the first publish until the last is delivered.
//
//	go test ./dialog/jetstream -run '^$' -bench Publish -benchtime 20000x
func BenchmarkPublish(b *testing.B) {
	const inFlight = 2000 // under DefaultMaxPending
	c := newCluster(b)
	pub, sub := c.node(b), c.node(b)
	events, stop := sub.Subscribe("", b.N+16)
	defer stop()
	b.ResetTimer()
	start := time.Now()
	timeout := time.After(time.Minute)
	got := 0
	receive := func() {
		select {
		case <-events:
			got++
		case <-timeout:
			b.Fatalf("%d of %d events delivered after a minute (stats %+v)", got, b.N, pub.Stats())
		}
	}
	for i := range b.N {
		for i-got >= inFlight { // Publish drops past MaxPending, never waits
			receive()
		}
		pub.Publish(message(fmt.Sprintf("conv-%d", i%1000), uint64(i/1000+1)))
	}
	for got < b.N {
		receive()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	if st := pub.Stats(); st.Dropped > 0 {
		b.Errorf("%d events dropped (queue full): raise MaxPending or publish slower", st.Dropped)
	}
}
