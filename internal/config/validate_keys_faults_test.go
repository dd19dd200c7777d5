package config

import (
	"strings"
	"testing"
)

// TestTopLevelQueueErrorReportedOnce: a bad value in the top-level
// queue block was reported under "queue" and again once per
// destination, as destinations[i].queue.* keys the file does not have.
// It is reported once, under the key written; a destination's own bad
// queue value is still reported under its destination.
func TestTopLevelQueueErrorReportedOnce(t *testing.T) {
	y := nullBlockConfig("", `  - {name: os, type: file, file: {dir: /tmp/review-f2}}
  - {name: siem, type: file, file: {dir: /tmp/review-f3}, queue: {on_full: sometimes}}
`) + "queue: {fsync: never}\n"
	_, err := Parse("c.yaml", []byte(y))
	if err == nil {
		t.Fatal("a bad queue.fsync validated")
	}
	msg := err.Error()
	if n := strings.Count(msg, "fsync"); n != 1 {
		t.Errorf("queue.fsync reported %d times, want once:\n%s", n, msg)
	}
	if !strings.Contains(msg, "queue.fsync") || strings.Contains(msg, "(archive).queue") || strings.Contains(msg, "(os).queue") {
		t.Errorf("queue.fsync not reported under its own key only:\n%s", msg)
	}
	if !strings.Contains(msg, "(siem).queue.on_full") {
		t.Errorf("the destination's own bad on_full is not reported under it:\n%s", msg)
	}
}

// TestDestinationQueueCombinationStillChecked: with a valid top-level
// block, a destination's block is checked merged over it (a
// retry_max the destination sets below the top's retry_initial).
func TestDestinationQueueCombinationStillChecked(t *testing.T) {
	y := nullBlockConfig("", `  - {name: os, type: file, file: {dir: /tmp/review-f2}, queue: {retry_max: 1s}}
`) + "queue: {retry_initial: 5s}\n"
	_, err := Parse("c.yaml", []byte(y))
	if err == nil || !strings.Contains(err.Error(), "(os).queue") {
		t.Errorf("retry_max below the inherited retry_initial: %v", err)
	}
}
