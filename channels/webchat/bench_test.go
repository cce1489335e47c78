package webchat

import (
	"strconv"
	"testing"
)

// BenchmarkMessageRoundTrip measures one customer message over a real
// socket: frame in, stored (durably), parsed by the keyword parser,
// answered, and the ack and the stored reply back out.
func BenchmarkMessageRoundTrip(b *testing.B) {
	s := newStack(b)
	c := s.dial(b)
	c.hello("", 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.exchange("c-"+strconv.Itoa(i), "hi")
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	frame := []byte(protocolExamples[1])
	b.ReportAllocs()
	for b.Loop() {
		if _, fe := decodeFrame(frame, 2000, 4096); fe != nil {
			b.Fatal(fe)
		}
	}
}
