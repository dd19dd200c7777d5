// Package rules loads, compiles and evaluates the routing rules that classify
// each normalized event as P1, P2 or P3.
//
// Rule files are YAML documents with a `rules:` list; files load in lexical
// file-name order (skipping *_test.yaml), rules in file order, and the first
// rule whose expression is true sets the event's priority. An event no rule
// matches gets the configured default priority.
//
// Expressions are expr-lang (github.com/expr-lang/expr) booleans over the
// normalized event's fields, compiled once at load. Field access never fails:
// every member access is optional, so a missing field is nil. Rules written in
// the common subset (field paths, literals, ==, !=, <, <=, >, >=, in, not in,
// startsWith, endsWith, contains, matches, and, or, not) are lowered to a
// native matcher that reads only the fields the rule references and allocates
// nothing; any other expression runs on expr's VM with an environment built
// from the fields it references (slower, counted by Set.VMRules).
//
// Where expr would raise a type error, the rule does not match: on the VM the
// error makes the whole rule false; the native matcher takes the offending
// operand as false (an ordering comparison such as n > 3 on a missing or
// non-numeric field, or a bare non-boolean field used as a condition). So
// the two differ when such an operand is negated (not (n > 3) is true
// natively when n is missing) or or-ed with one that holds
// (severity >= 8 or rule.name == "X" matches natively on severity "high";
// on the VM the type error makes the rule false). Guard typed comparisons
// (n != nil and n <= 3) when a field's type varies. `x in ["1"]` (a list of
// strings only) is such a type error on a non-string x on the VM.
//
// The VM reads each field path as one key of a flat environment, looked up
// as the native matcher does (a missing parent is nil, a sub-field of a
// string or array is nil, $env["a.b"] is the path a.b), except in a rule
// with let variables, whose environment is nested. Both forms of a dotted
// path read a literal dotted key ("id.orig_h") too, the literal key first.
package rules
