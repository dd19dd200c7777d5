package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is what one lrbench invocation measured.
type Report struct {
	Scenario    string  `json:"scenario"`
	Description string  `json:"description"`
	RunID       string  `json:"run_id"`
	Date        string  `json:"date"`
	Machine     Machine `json:"machine"`
	Params      Params  `json:"params"`
	// Router is the commit the router was built from, or the binary given.
	Router string       `json:"router"`
	Runs   []*RunReport `json:"runs"`
	// Ratios compares the first system with the others (benthos-compare).
	Ratios  []Ratio  `json:"ratios,omitempty"`
	Skipped string   `json:"skipped,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// Params are the load's settings.
type Params struct {
	Seed        int64   `json:"seed"`
	DurationS   float64 `json:"duration_s"`
	RateMBps    float64 `json:"rate_mb_s"` // 0: flat out
	Concurrency int     `json:"concurrency"`
	Batch       int     `json:"batch"`
	DupRate     float64 `json:"dup_rate"`
	Protocol    string  `json:"protocol"`
	Gzip        bool    `json:"gzip"`
	ExtraRules  int     `json:"extra_rules"`
	// FallbackRules: the extra rules are in the starter rules' shape.
	FallbackRules bool `json:"fallback_rules,omitempty"`
}

// RunReport is one system under one load.
type RunReport struct {
	Name      string `json:"name"`
	Input     string `json:"input"`
	QueueMode string `json:"queue_mode,omitempty"`

	LoadSeconds  float64 `json:"load_s"`
	DrainSeconds float64 `json:"drain_s"`

	EventsSent  uint64 `json:"events_sent"`
	EventsAcked uint64 `json:"events_acked"`
	Distinct    uint64 `json:"distinct_events"`
	DupsSent    uint64 `json:"duplicates_sent"`
	BytesAcked  uint64 `json:"bytes_acked"`
	Requests    uint64 `json:"requests"`
	Retries     uint64 `json:"retries"`
	Refused     uint64 `json:"refused_429_503"`
	Errors      uint64 `json:"transport_errors"`
	Rejected    uint64 `json:"rejected_events"`
	Abandoned   uint64 `json:"abandoned_events"`

	// MBps and EventsPerSec are acknowledged input per second of load;
	// SustainedMBps is per second of load and drain (the router's
	// deliveries finished), which TBPerDay is a daily figure of.
	MBps          float64 `json:"input_mb_s"`
	EventsPerSec  float64 `json:"events_s"`
	SustainedMBps float64 `json:"sustained_mb_s"`
	TBPerDay      float64 `json:"tb_day"`
	CPUSeconds    float64 `json:"cpu_s"`
	CPUSecPerGB   float64 `json:"cpu_s_per_gb"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
	HarnessCPU    float64 `json:"harness_cpu_s"`

	// RouterDeduplicated is what the router's deduplication dropped.
	RouterDeduplicated float64 `json:"router_deduplicated,omitempty"`
	// RouterGCs is the router's GC cycles (go_gc_duration_seconds_count) and
	// DedupReachS how far back its dedup set remembered
	// (logrouter_dedup_reach_seconds), both at the end of the drain.
	RouterGCs   float64 `json:"router_gc_cycles,omitempty"`
	DedupReachS float64 `json:"dedup_reach_s,omitempty"`
	// RouterCounters are the router's logrouter_* counters at the end of
	// the drain (input, dedup, queue ledger, destination outcomes).
	RouterCounters map[string]float64 `json:"router_counters,omitempty"`

	Dests   []DestReport `json:"destinations"`
	Lost    uint64       `json:"lost"`
	Dup     uint64       `json:"duplicated"`
	OK      bool         `json:"ok"`
	Profile string       `json:"cpu_profile,omitempty"`
	Notes   []string     `json:"notes,omitempty"`
}

// DestReport is what one destination holds after the run.
type DestReport struct {
	Name string `json:"name"`
	// Expected: acknowledged distinct events routed to it.
	Expected uint64 `json:"expected"`
	Received uint64 `json:"received"`
	Distinct uint64 `json:"distinct"`
	// Lost: expected and never received. Must be 0.
	Lost uint64 `json:"lost"`
	// Duplicated: received more than once (extra copies).
	Duplicated uint64 `json:"duplicated"`
	// Misrouted: received though its kind's priority is not routed here.
	Misrouted uint64 `json:"misrouted"`
	Invalid   uint64 `json:"invalid"`
	Foreign   uint64 `json:"foreign"`
	// Corrupt: of the events that carry a content check (one in 64),
	// those that arrived without the content sent (they count as lost).
	Corrupt  uint64  `json:"corrupt"`
	MB       float64 `json:"mb"`
	Requests uint64  `json:"requests_or_files"`
	Refused  uint64  `json:"answered_503,omitempty"`
	// Conflicts: creates of a document already stored, answered 409
	// (OpenSearch only; not stored, so not duplicates).
	Conflicts uint64   `json:"answered_409,omitempty"`
	P50ms     *float64 `json:"p50_ms,omitempty"`
	P99ms     *float64 `json:"p99_ms,omitempty"`
	// PeakQueued*: the most the router's queue for this destination held
	// during the run (sampled every 250ms).
	PeakQueuedMB     *float64 `json:"peak_queued_mb,omitempty"`
	PeakQueuedEvents *uint64  `json:"peak_queued_events,omitempty"`
	// StoredMB: the size of the files read back (the archive's compressed
	// objects); MB / StoredMB is the compression ratio.
	StoredMB *float64 `json:"stored_mb,omitempty"`
}

// Ratio compares two runs.
type Ratio struct {
	Of         string  `json:"of"`
	To         string  `json:"to"`
	MBps       float64 `json:"throughput_ratio"`
	CPUPerGB   float64 `json:"cpu_per_gb_ratio"`
	PeakRSSMiB float64 `json:"peak_rss_ratio"`
}

// JSON writes r indented.
func (r *Report) JSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// Print writes r as tables.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "lrbench %s: %s\n", r.Scenario, r.Description)
	fmt.Fprintf(w, "run %s, %s; %d CPUs (%s), %d GB, kernel %s, %s, load average %s at start\n",
		r.RunID, r.Date, r.Machine.CPUs, r.Machine.Model, r.Machine.MemoryGB, r.Machine.Kernel, r.Machine.GoVersion, r.Machine.Load1)
	fmt.Fprintf(w, "router: %s\n", r.Router)
	rate := "flat out"
	if r.Params.RateMBps > 0 {
		rate = fmt.Sprintf("%.1f MB/s", r.Params.RateMBps)
	}
	shape := ""
	if r.Params.FallbackRules {
		shape = " (source or vendor field)"
	}
	fmt.Fprintf(w, "load: %s for %.0fs, %s, %d connections, %d events per request, dup rate %.3f, seed %d, gzip %v, %d extra rules%s\n\n",
		r.Params.Protocol, r.Params.DurationS, rate, r.Params.Concurrency, r.Params.Batch, r.Params.DupRate, r.Params.Seed, r.Params.Gzip, r.Params.ExtraRules, shape)
	if r.Skipped != "" {
		fmt.Fprintf(w, "SKIPPED: %s\n", r.Skipped)
	}
	if len(r.Runs) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "system\tinput\tqueue\tMB/s\tevents/s\tsustained MB/s\tTB/day\tCPU s/GB\tpeak RSS MiB\tsent\tacked\trefused\tlost\tdup\tdrain s\tharness CPU s\t")
		for _, x := range r.Runs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.0f\t%.1f\t%.2f\t%.1f\t%.0f\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t\n",
				x.Name, x.Input, dash(x.QueueMode), x.MBps, x.EventsPerSec, x.SustainedMBps, x.TBPerDay, x.CPUSecPerGB, x.PeakRSSMiB,
				x.EventsSent, x.EventsAcked, x.Refused, x.Lost, x.Dup, x.DrainSeconds, x.HarnessCPU)
		}
		tw.Flush()
		for _, x := range r.Runs {
			fmt.Fprintf(w, "\n%s (%s, queue %s): %d distinct events, %d duplicates sent, %d requests, %d retries, %d rejected, %d abandoned",
				x.Name, x.Input, dash(x.QueueMode), x.Distinct, x.DupsSent, x.Requests, x.Retries, x.Rejected, x.Abandoned)
			if x.RouterDeduplicated > 0 {
				fmt.Fprintf(w, ", %.0f dropped by the router's dedup", x.RouterDeduplicated)
			}
			if x.DedupReachS > 0 {
				fmt.Fprintf(w, " (it remembered %.0f s back)", x.DedupReachS)
			}
			if x.RouterGCs > 0 {
				fmt.Fprintf(w, ", %.0f GC cycles", x.RouterGCs)
			}
			fmt.Fprintln(w)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "destination\texpected\treceived\tdistinct\tlost\tdup\tmisrouted\tinvalid\tcorrupt\tMB\tp50 ms\tp99 ms\tpeak queue MB\treq/files\t503s\t409s\t")
			for _, d := range x.Dests {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%d\t%d\t%d\t\n", d.Name, d.Expected, d.Received, d.Distinct,
					d.Lost, d.Duplicated, d.Misrouted, d.Invalid+d.Foreign, d.Corrupt, d.MB, ms(d.P50ms), ms(d.P99ms), mb(d.PeakQueuedMB), d.Requests, d.Refused, d.Conflicts)
			}
			tw.Flush()
			for _, d := range x.Dests {
				if d.StoredMB != nil && *d.StoredMB > 0 {
					fmt.Fprintf(w, "  %s: %.1f MB of events in %.1f MB of files (compression ratio %.2f)\n", d.Name, d.MB, *d.StoredMB, d.MB / *d.StoredMB)
				}
			}
			for _, n := range x.Notes {
				fmt.Fprintf(w, "  note: %s\n", n)
			}
			if x.Profile != "" {
				fmt.Fprintf(w, "  CPU profile: %s (go tool pprof -top %s)\n", x.Profile, x.Profile)
			}
			if !x.OK {
				fmt.Fprintf(w, "  FAILED: events lost, refused, misrouted or not verified (see the notes and the table)\n")
			}
		}
	}
	for _, q := range r.Ratios {
		fmt.Fprintf(w, "\nratio %s / %s: throughput %.2fx, CPU per GB %.2fx, peak RSS %.2fx\n", q.Of, q.To, q.MBps, q.CPUPerGB, q.PeakRSSMiB)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func mb(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f", *v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ms(v *float64) string {
	if v == nil {
		return "-"
	}
	if *v < 10 {
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", *v), "0"), ".")
	}
	return fmt.Sprintf("%.0f", *v)
}
