package normalize

// testMatcher compiles detect.expr for this package's tests. The starter
// profiles use expressions, which the rules package compiles; rules imports
// normalize, so only the external test package (matcher_ext_test.go) can
// import it and hand its compiler over here, before any test runs.
var testMatcher func(string) (Matcher, error)

// SetTestMatcher is for matcher_ext_test.go.
func SetTestMatcher(f func(string) (Matcher, error)) { testMatcher = f }

// testTextParser makes the parser of profiles' parse with format syslog
// for this package's tests (the syslog input's, which imports this
// package: set by matcher_ext_test.go).
var testTextParser func() TextParser

// SetTestTextParser is for matcher_ext_test.go.
func SetTestTextParser(f func() TextParser) { testTextParser = f }
