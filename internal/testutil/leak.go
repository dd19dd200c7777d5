package testutil

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// settleFor bounds how long VerifyTestMain waits for goroutines on their way
// out before goleak looks.
const settleFor = 10 * time.Second

// VerifyTestMain runs a package's tests (call it from TestMain), then fails
// the run if goroutines leaked, like goleak.VerifyTestMain; but first it
// gives goroutines still ending (a closed connection's, a shut down
// server's, a Kafka client's) up to 10s to go. goleak's own retries last
// under half a second, too short on a loaded CI machine under -race. A real
// leak is still reported, after the wait.
func VerifyTestMain(m *testing.M, opts ...goleak.Option) {
	goleak.VerifyTestMain(settled{m, opts}, opts...)
}

type settled struct {
	m    *testing.M
	opts []goleak.Option
}

func (s settled) Run() int {
	code := s.m.Run()
	for deadline := time.Now().Add(settleFor); goleak.Find(s.opts...) != nil && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	return code
}
