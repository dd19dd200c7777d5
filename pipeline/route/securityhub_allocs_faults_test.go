package route_test

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"testing"

	"github.com/logrouter/logrouter/pipeline"
)

// TestSecurityHubEventZeroAllocs
//
// Input: the starter rules (example configuration) and a batch of AWS
// Security Hub ASFF findings (the shape of the rule test file's own
// "aws.securityhub" case), normalized and classified by a Worker as
// TestWorkerZeroAllocs does for the loadgen mix.
// What happens: cloud-aws-securityhub now uses
// `any(detail.findings, ...)`, which the native matcher cannot lower, so the
// rule runs on expr's VM; every event its guard lets through (every
// Security Hub finding, and every event with SchemaVersion) builds a map
// environment, converts the fields and runs the VM: allocations per event.
// What should happen: zero allocations per event on the hot path for the
// starter rules (the invariant, and what the rule cost before: it was
// native). TestWorkerZeroAllocs does not see it because the loadgen mix
// has no Security Hub events.
// Why it matters: Security Hub is a P1 source; a burst of findings (an
// account-wide misconfiguration imports thousands at once) now drives the
// GC on the hot path, the cost docs/performance.md says the router never
// pays for the starter rules.
func TestSecurityHubEventZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	// A threat finding Security Hub aggregates (GuardDuty's): its own
	// control findings (Compliance set) are P3 since the vendor review.
	ev := []byte(`{"SchemaVersion": "2018-10-08", "Id": "arn:aws:guardduty:us-east-1:418295730164:detector/12abc34d567e8fa901bc2d34e56789f0/finding/1a2b3c4d", "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty", "ProductName": "GuardDuty", "AwsAccountId": "418295730164", "Types": ["TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort"], "Title": "Unprotected port on EC2 instance i-99999999 is being probed", "Severity": {"Label": "HIGH"}, "RecordState": "ACTIVE", "Workflow": {"Status": "NEW"}}`)
	if a := profileAllocs(t, ev, "aws.securityhub", pipeline.P1); a != 0 { // P1: cloud-aws-securityhub
		t.Errorf("%.1f allocations per batch of 100 Security Hub findings, want 0 (%.1f per event)", a, a/100)
	}
}
