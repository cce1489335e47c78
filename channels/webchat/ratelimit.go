package webchat

import (
	"sync"
	"time"
)

// bucket is a token bucket: it holds up to burst tokens and gains rate
// tokens a second; each message takes one. A rate <= 0 means unlimited.
type bucket struct {
	rate   float64 // tokens per second; <= 0: unlimited
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) bucket {
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take takes a token at now, or reports how long until one is there.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	if b.rate <= 0 {
		return true, 0
	}
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	return false, max(wait, time.Millisecond)
}

// full reports whether the bucket has refilled by now, so forgetting it
// changes nothing.
func (b *bucket) full(now time.Time) bool {
	return b.rate <= 0 || b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.burst
}

// ipLimiter holds one bucket per client address. Buckets that have refilled
// are forgotten, so the map only holds addresses active in the last
// burst/rate seconds.
type ipLimiter struct {
	rate  float64
	burst int

	mu        sync.Mutex
	buckets   map[string]*bucket // guarded by mu
	lastSweep time.Time          // guarded by mu
}

func newIPLimiter(rate float64, burst int) *ipLimiter {
	return &ipLimiter{rate: rate, burst: burst, buckets: make(map[string]*bucket)}
}

// take takes a token of ip's bucket; see bucket.take.
func (l *ipLimiter) take(ip string, now time.Time) (bool, time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if b.full(now) {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[ip]
	if b == nil {
		nb := newBucket(l.rate, l.burst, now)
		b = &nb
		l.buckets[ip] = b
	}
	return b.take(now)
}
