package harness

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// routerDrain returns the drain step for a router: poll /metrics until
// (for inputs without acknowledgements) the input accepted every event
// sent, no queue holds an event, and every queue's ledger balances
// (accepted + recovered = delivered + quarantined + dropped + lost), three
// polls in a row.
func routerDrain(o *Options, s *systemRun, admin, input string, waitInput bool) func(context.Context, uint64) error {
	return func(ctx context.Context, want uint64) error {
		c := &http.Client{Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		deadline := time.Now().Add(o.DrainTimeout)
		stable := 0
		why := ""
		lastIn, inSince := -1.0, time.Now()
		for {
			if s.proc.exited() {
				return fmt.Errorf("the router exited during the drain: %v\n%s", s.proc.err, s.proc.logTail(4000))
			}
			m, err := scrape(ctx, c, "http://"+admin+"/metrics")
			if err != nil {
				why = err.Error()
				stable = 0
			} else {
				s.lastMetrics = m
				lbl := `input="` + input + `"`
				in := m.sum("logrouter_input_events_total", lbl) - m.sum("logrouter_input_refused_events_total", lbl) +
					m.sum("logrouter_quarantined_events_total", lbl)
				queued := m.sum("logrouter_queue_events")
				acc := m.sum("logrouter_queue_accepted_events_total") + m.sum("logrouter_queue_recovered_events_total")
				out := m.sum("logrouter_queue_delivered_events_total") + m.sum("logrouter_queue_quarantined_events_total") +
					m.sum("logrouter_queue_dropped_events_total") + m.sum("logrouter_queue_lost_events_total")
				if in != lastIn {
					lastIn, inSince = in, time.Now()
				}
				short := waitInput && in < float64(want)
				if short && queued == 0 && acc == out && time.Since(inSince) > 5*time.Second {
					// Everything the router took is delivered and it has
					// taken nothing for 5s: the counters are short (a
					// refused batch is counted with its duplicates, its
					// resend without them), or events are missing, which
					// the destinations' check will show.
					s.drainNote = fmt.Sprintf("input %s counted %.0f accepted events of the %d sent and stopped there; queues empty", input, in, want)
					short = false
				}
				switch {
				case short:
					why, stable = fmt.Sprintf("input %s accepted %.0f of the %d events sent", input, in, want), 0
				case queued > 0:
					why, stable = fmt.Sprintf("%.0f events queued", queued), 0
				case acc != out:
					why, stable = fmt.Sprintf("queues accepted %.0f events, delivered or accounted for %.0f", acc, out), 0
				default:
					stable++
					if stable >= 3 {
						return nil
					}
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("not drained after %v: %s", o.DrainTimeout, why)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}
