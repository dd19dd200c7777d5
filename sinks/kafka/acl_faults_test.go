package kafka

// Fault tests from a review of the Kafka input and destination: each failed
// before the fix of the fault it describes (the comments describe the code
// as found).

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/logrouter/logrouter/pipeline"
)

// TestTopicAuthorizationIsNotAMissingTopic: the edge's Kafka user
// lacks the ACL for an existing topic (a wrong or missing ACL: the
// deployment docs use a dedicated SASL user, logrouter-edge, with Kafka
// ACLs). The package documentation promises "TOPIC/CLUSTER_AUTHORIZATION_
// FAILED ... retryable: operator fixes" (the events stay queued until the
// ACL is fixed). Observed: checkTopics reads the transport's metadata cache,
// which kafka-go fills with an all-topics Metadata request; brokers leave
// the topics a principal may not Describe out of that list without an
// error, so the sink reports 'topic "logs" does not exist (topics are not
// created automatically): create it' and, once missing_topic_timeout has
// passed, turns every event into a permanent failure ("create it, then
// replay the quarantine"): the queue moves the whole stream to the
// quarantine and the operator is told to create a topic that exists.
// Expected: an authorization failure is reported as such
// (TOPIC_AUTHORIZATION_FAILED, code 29) and stays retryable, like the
// documented table says.
func TestTopicAuthorizationIsNotAMissingTopic(t *testing.T) {
	c := newCluster(t, kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", "admin", "admin"),
		// The edge may produce to another topic only: no ACL on "logs".
		kfake.User("PLAIN", "edge", "edgepass", kfake.ACL{
			Resource: kmsg.ACLResourceTypeTopic, Name: "logs-p1",
			Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationWrite, Allow: true,
		}),
		// The control: a user with the ACL writes to "logs".
		kfake.User("PLAIN", "granted", "grantedpass", kfake.ACL{
			Resource: kmsg.ACLResourceTypeTopic, Name: "logs",
			Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationWrite, Allow: true,
		}))
	ok := newSink(t, c, Config{Topic: "logs", WriteTimeout: 5 * time.Second,
		SASL: &SASLConfig{Mechanism: "plain", Username: "granted", Password: "grantedpass", AllowPlaintext: true}})
	cb := mkBatch(ev{raw: `{"control":1}`, hash: 7, prio: pipeline.P1})
	defer cb.Release()
	if err := ok.Write(context.Background(), cb); err != nil {
		t.Fatalf("control: a user with the Write ACL on the topic cannot write either: %v", err)
	}
	s := newSink(t, c, Config{Topic: "logs", MissingTopicTimeout: 200 * time.Millisecond, WriteTimeout: 5 * time.Second,
		SASL: &SASLConfig{Mechanism: "plain", Username: "edge", Password: "edgepass", AllowPlaintext: true}},
		withMetadataTTL(100*time.Millisecond))
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1})
	defer b.Release()

	var last error
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		last = s.Write(context.Background(), b)
		if last == nil {
			t.Fatal("the write succeeded without an ACL for the topic")
		}
		if isPermanentErr(last) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("last error: %v", last)
	if isPermanentErr(last) {
		t.Errorf("an authorization failure on an existing topic became permanent (the queue quarantines the events): %v", last)
	}
	if strings.Contains(last.Error(), "does not exist") {
		t.Errorf("the error tells the operator the existing topic %q does not exist and to create it, instead of naming the authorization failure: %v", "logs", last)
	}
}

// isPermanentErr reports whether err, or any item of a BatchError, is
// permanent (the queue quarantines those events).
func isPermanentErr(err error) bool {
	var be *pipeline.BatchError
	if errors.As(err, &be) {
		for _, it := range be.Items {
			if pipeline.IsPermanent(it.Err) {
				return true
			}
		}
	}
	return pipeline.IsPermanent(err)
}
