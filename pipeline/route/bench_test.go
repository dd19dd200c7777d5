package route_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
)

// exampleRouter is the router of the embedded example config: its renames,
// drops and the starter rules.
func exampleRouter(tb testing.TB) *route.Router {
	tb.Helper()
	cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := app.BuildRouter(cfg, app.RulesSource{FS: logrouter.StarterRules, Dir: "rules"})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// noProfiles hides rules/profiles, for measuring what profiles cost.
type noProfiles struct{ fs.FS }

func (f noProfiles) Open(name string) (fs.File, error) {
	if strings.Contains(name, "profiles") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.FS.Open(name)
}

// corpus returns n events of the realistic mix (seeded), their HEC
// sourcetypes and total size.
func corpus(n int) (events, sourcetypes [][]byte, size int) {
	m := loadgen.New(loadgen.Options{Seed: 1})
	for i := 0; i < n; i++ {
		ev, k := m.Next(nil)
		events = append(events, ev)
		sourcetypes = append(sourcetypes, []byte(k.SourceType()))
		size += len(ev)
	}
	return events, sourcetypes, size
}

// BenchmarkNormalizeRoute measures the per-event hot path: fastjson parse,
// normalization into the batch arena and rule classification, for batches of
// 1000 events of the realistic mix with their HEC sourcetypes. MB/s is input
// bytes per second on one core.
func BenchmarkNormalizeRoute(b *testing.B) {
	b.Run("profiles", func(b *testing.B) { benchNormalizeRoute(b, exampleRouter(b)) })
	b.Run("no-profiles", func(b *testing.B) {
		cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
		if err != nil {
			b.Fatal(err)
		}
		r, err := app.BuildRouter(cfg, app.RulesSource{FS: noProfiles{logrouter.StarterRules}, Dir: "rules"})
		if err != nil {
			b.Fatal(err)
		}
		benchNormalizeRoute(b, r)
	})
}

func benchNormalizeRoute(b *testing.B, r *route.Router) {
	events, sts, size := corpus(1000)
	benchEvents(b, r, events, sts, size, nil)
}

// benchEvents normalizes and classifies events into one batch per
// iteration, with their HEC sourcetypes (sts nil: none, as NDJSON sends
// them), then calls after (when set) on the batch.
func benchEvents(b *testing.B, r *route.Router, events, sts [][]byte, size int, after func(*pipeline.Batch)) {
	w := r.NewWorker()
	var p fastjson.Parser
	batch := pipeline.NewBatch()
	batch.Meta = pipeline.Meta{Input: "http", Protocol: "hec", Peer: "10.0.0.1", IngestTime: 1764331200e9}
	var em normalize.EventMeta
	meta := &em
	if sts == nil {
		batch.Meta.Protocol, meta = "ndjson", nil
	}
	run := func() {
		batch.Reset()
		batch.Grow(size * 2)
		for i, ev := range events {
			v, err := p.ParseBytes(ev)
			if err != nil {
				b.Fatal(err)
			}
			if sts != nil {
				em.SourceType = sts[i]
			}
			if err := w.Add(batch, v, nil, meta); err != nil {
				b.Fatal(err)
			}
		}
		if after != nil {
			after(batch)
		}
	}
	run()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkNormalizeRouteNoSourcetype is the same mix without HEC
// sourcetypes, so rules fall through to their field-based branches.
func BenchmarkNormalizeRouteNoSourcetype(b *testing.B) {
	events, _, size := corpus(1000)
	benchEvents(b, exampleRouter(b), events, nil, size, nil)
}

// BenchmarkParseOnly is the fastjson floor for the same corpus, for scale.
func BenchmarkParseOnly(b *testing.B) {
	events, _, size := corpus(1000)
	var p fastjson.Parser
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, ev := range events {
			if _, err := p.ParseBytes(ev); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSplit measures splitting a classified batch into destination lanes.
func BenchmarkSplit(b *testing.B) {
	r := exampleRouter(b)
	events, sts, size := corpus(1000)
	w := r.NewWorker()
	var p fastjson.Parser
	batch := pipeline.NewBatch()
	var em normalize.EventMeta
	for i, ev := range events {
		v, _ := p.ParseBytes(ev)
		em.SourceType = sts[i]
		_ = w.Add(batch, v, nil, &em)
	}
	var lanes route.Lanes
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Table.Split(batch, &lanes)
	}
}

// TestStarterRulesClassifyTheMix checks that every kind of the load
// generator's mix gets the priority the starter rules promise, with and
// without a sourcetype.
func TestStarterRulesClassifyTheMix(t *testing.T) {
	r := exampleRouter(t)
	w := r.NewWorker()
	var p fastjson.Parser
	m := loadgen.New(loadgen.Options{Seed: 7})
	seen := map[loadgen.Kind]bool{}
	for i := 0; i < 3000; i++ {
		ev, k := m.Next(nil)
		seen[k] = true
		for _, st := range []string{k.SourceType(), ""} {
			batch := pipeline.NewBatch()
			v, err := p.ParseBytes(ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Add(batch, v, nil, &normalize.EventMeta{SourceType: []byte(st)}); err != nil {
				t.Fatal(err)
			}
			got := batch.Events[0]
			if got.Priority.String() != k.Priority() {
				t.Fatalf("%s (sourcetype %q) got %s by rule %s, want %s:\n%s", k, st, got.Priority, r.Rules.RuleName(int(got.Rule)), k.Priority(), ev)
			}
			batch.Release()
		}
	}
	if len(seen) != len(loadgen.Kinds) {
		t.Errorf("only %d of %d kinds generated", len(seen), len(loadgen.Kinds))
	}
}

// TestSyntheticRulesMatchNothing: the synthetic rule sets of the benchmarks
// and of lrbench -rules (either shape) match no event of the mix, so the
// starter rules still decide (a match would move events to other
// destinations, which the harness counts as lost).
func TestSyntheticRulesMatchNothing(t *testing.T) {
	cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	for name, rules := range map[string][]byte{"guarded": loadgen.SyntheticRules(1000), "fallback": loadgen.SyntheticFallbackRules(1000)} {
		r, err := app.BuildRouter(cfg, app.RulesSource{FS: withRuleFile(t, rules), Dir: "rules"})
		if err != nil {
			t.Fatal(err)
		}
		w := r.NewWorker()
		var p fastjson.Parser
		m := loadgen.New(loadgen.Options{Seed: 3})
		for i := 0; i < 5000; i++ {
			ev, k := m.Next(nil)
			batch := pipeline.NewBatch()
			v, err := p.ParseBytes(ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Add(batch, v, nil, &normalize.EventMeta{SourceType: []byte(k.SourceType())}); err != nil {
				t.Fatal(err)
			}
			if rule := r.Rules.RuleName(int(batch.Events[0].Rule)); strings.HasPrefix(rule, "synthetic-") {
				t.Fatalf("%s: synthetic rule %s matched a %s event:\n%s", name, rule, k, ev)
			}
			batch.Release()
		}
	}
}

func TestWorkerZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	r := exampleRouter(t)
	events, sts, size := corpus(200)
	w := r.NewWorker()
	var p fastjson.Parser
	batch := pipeline.NewBatch()
	batch.Grow(size * 2)
	var em normalize.EventMeta
	run := func() {
		batch.Reset()
		for i, ev := range events {
			v, _ := p.ParseBytes(ev)
			em.SourceType = sts[i]
			_ = w.Add(batch, v, nil, &em)
		}
	}
	run()
	run()
	if a := testing.AllocsPerRun(20, run); a != 0 {
		t.Errorf("%.1f allocations per batch of %d events, want 0", a, len(events))
	}
}

// BenchmarkNormalizeDedupRoute is BenchmarkNormalizeRoute plus the dedup
// check and record of every event (all distinct, the worst case: every key
// is inserted), the stage issue 9 asks at 150 MB/s per core.
func BenchmarkNormalizeDedupRoute(b *testing.B) {
	events, sts, size := corpus(1000)
	set := dedup.New(10*time.Minute, 64<<20)
	now := time.Unix(1764331200, 0)
	salt := uint64(0)
	var keys, add []uint64
	var dup []bool
	var dropped []uint32
	benchEvents(b, exampleRouter(b), events, sts, size, func(batch *pipeline.Batch) {
		// The engine's pattern: the batch's keys looked up together, the
		// new ones added together once accepted.
		salt += 0x9e3779b97f4a7c15
		keys, add = keys[:0], add[:0]
		for i := range batch.Events {
			keys = append(keys, batch.Events[i].Key^salt)
		}
		if len(dup) < len(keys) {
			dup, dropped = make([]bool, len(keys)), make([]uint32, len(keys))
		}
		set.LookupMany(keys, now, dup, dropped)
		for i, k := range keys {
			if !dup[i] {
				add = append(add, k)
			}
		}
		set.AddMany(add, now, nil)
	})
}

// withRules is the starter rules plus n synthetic ones evaluated first
// (loadgen.SyntheticRules: none matches, so every event walks all n).
func withRules(tb testing.TB, n int) fs.FS {
	return withRuleFile(tb, loadgen.SyntheticRules(n))
}

// withRuleFile is the starter rules with extra as rules/00-synthetic.yaml.
func withRuleFile(tb testing.TB, extra []byte) fs.FS {
	tb.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(logrouter.StarterRules, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(logrouter.StarterRules, p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	m["rules/00-synthetic.yaml"] = &fstest.MapFile{Data: extra}
	return m
}

// BenchmarkNormalizeRouteRules is BenchmarkNormalizeRoute/profiles with 10,
// 100 and 1000 more rules before the starter ones: what a SOC team's rule
// count costs per event (docs/performance.md, "Rule count").
func BenchmarkNormalizeRouteRules(b *testing.B) {
	cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{0, 10, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			r, err := app.BuildRouter(cfg, app.RulesSource{FS: withRules(b, n), Dir: "rules"})
			if err != nil {
				b.Fatal(err)
			}
			benchNormalizeRoute(b, r)
		})
	}
	// The same counts in the starter rules' shape (a source or a vendor
	// field: loadgen.SyntheticFallbackRules).
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("fallback-rules=%d", n), func(b *testing.B) {
			r, err := app.BuildRouter(cfg, app.RulesSource{FS: withRuleFile(b, loadgen.SyntheticFallbackRules(n)), Dir: "rules"})
			if err != nil {
				b.Fatal(err)
			}
			benchNormalizeRoute(b, r)
		})
	}
}

// BenchmarkNormalizeRouteBySize is BenchmarkNormalizeRoute/profiles on the
// mix's events bucketed by size: how the cost splits into a per-event and a
// per-byte part (docs/performance.md, "Event size").
func BenchmarkNormalizeRouteBySize(b *testing.B) {
	m := loadgen.New(loadgen.Options{Seed: 1})
	type bucket struct {
		name   string
		lo, hi int
		events [][]byte
		sts    [][]byte
		size   int
	}
	buckets := []*bucket{{name: "under-500B", lo: 0, hi: 500}, {name: "500-900B", lo: 500, hi: 900}, {name: "over-900B", lo: 900, hi: 1 << 20}}
	for full := 0; full < len(buckets); {
		ev, k := m.Next(nil)
		for _, bk := range buckets {
			if len(ev) >= bk.lo && len(ev) < bk.hi && len(bk.events) < 1000 {
				bk.events = append(bk.events, ev)
				bk.sts = append(bk.sts, []byte(k.SourceType()))
				bk.size += len(ev)
				if len(bk.events) == 1000 {
					full++
				}
			}
		}
	}
	r := exampleRouter(b)
	for _, bk := range buckets {
		b.Run(bk.name, func(b *testing.B) {
			benchEvents(b, r, bk.events, bk.sts, bk.size, nil)
			b.ReportMetric(float64(bk.size)/float64(len(bk.events)), "bytes/event")
		})
	}
}

// BenchmarkClassify times rule classification alone (field lookups and the
// rule index included, normalization not): each of 512 workers holds one
// normalized event of the mix, and every iteration classifies one, its
// field cache emptied as for a new event. MB/s is of the events' input
// bytes. The starter rules, and 1000 more in their shape before them.
func BenchmarkClassify(b *testing.B) {
	cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		rules fs.FS
	}{
		{"starter", logrouter.StarterRules},
		{"fallback-rules=1000", withRuleFile(b, loadgen.SyntheticFallbackRules(1000))},
	} {
		b.Run(c.name, func(b *testing.B) {
			r, err := app.BuildRouter(cfg, app.RulesSource{FS: c.rules, Dir: "rules"})
			if err != nil {
				b.Fatal(err)
			}
			events, sts, size := corpus(512)
			meta := &pipeline.Meta{Input: "http", Protocol: "hec", Peer: "10.0.0.1", IngestTime: 1764331200e9}
			workers := make([]*route.Worker, len(events))
			for i, ev := range events {
				var p fastjson.Parser // each worker's event points into its own parser's values
				v, err := p.ParseBytes(ev)
				if err != nil {
					b.Fatal(err)
				}
				workers[i] = r.NewWorker()
				if err := workers[i].BuildOnly(meta, v, &normalize.EventMeta{SourceType: sts[i]}); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(size / len(events)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				workers[i%len(workers)].Classify()
			}
		})
	}
}
