// Package logrouter holds the files embedded in the binary so that `router
// run` works with no file at all: the example configuration and the starter
// rules.
package logrouter

import "embed"

// ExampleConfig is config.example.yaml.
//
//go:embed config.example.yaml
var ExampleConfig []byte

// StarterRules holds rules/*.yaml (rule files and their tests).
//
//go:embed rules/*.yaml rules/profiles/*.yaml
var StarterRules embed.FS
