package normalize_test

import (
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/rules"
)

func init() { normalize.SetTestMatcher(rules.CompileMatcher) }

func init() { normalize.SetTestTextParser(parse.NewTextParser) }
