package normalize_test

import (
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/rules"
)

func init() { normalize.SetTestMatcher(rules.CompileMatcher) }
