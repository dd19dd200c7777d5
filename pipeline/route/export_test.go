package route

import (
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// BuildOnly normalizes one record into w without classifying it (for
// BenchmarkClassify, which times classification alone).
func (w *Worker) BuildOnly(meta *pipeline.Meta, obj *fastjson.Value, m *normalize.EventMeta) error {
	return w.n.Build(obj, nil, meta, m)
}

// Classify classifies the event w holds, as Add does after building it.
func (w *Worker) Classify() int { return w.classify() }
