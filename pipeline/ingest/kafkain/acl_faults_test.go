package kafkain

// Fault tests from a review of the Kafka input and destination: each failed
// before the fix of the fault it describes (the comments describe the code
// as found).

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/logrouter/logrouter/internal/kafkacfg"
	"github.com/logrouter/logrouter/pipeline/engine"
)

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTopicAuthorizationIsNotAMissingTopic: the gateway's Kafka user
// has no ACL on the listed topic (it exists; kubernetes.md has the replicas
// authenticate as their own SASL user under Kafka ACLs). existingTopics asks
// for the metadata of every topic (Conn.ReadPartitions with no topic), and
// brokers leave out of that list, without an error, the topics the principal
// may not Describe. Observed: the input logs "listed topics do not exist;
// consuming the others" for a topic that exists, and keeps saying so: the
// operator is sent to create a topic instead of fixing an ACL. A Java
// consumer reports TOPIC_AUTHORIZATION_FAILED ("Not authorized to access
// topics: [edge-logs]"). Expected: the topics are looked up by name, so the
// broker answers TOPIC_AUTHORIZATION_FAILED (code 29) for that topic, and the
// log names the authorization failure.
func TestTopicAuthorizationIsNotAMissingTopic(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "edge-logs"),
		kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", "admin", "admin"),
		// Allowed the group, not the topic.
		kfake.User("PLAIN", "gateway", "gwpass", kfake.ACL{
			Resource: kmsg.ACLResourceTypeGroup, Name: "g-acl",
			Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationRead, Allow: true,
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := faultConfig(c.ListenAddrs()[0], "g-acl", "edge-logs")
	cfg.SASL = &kafkacfg.SASL{Mechanism: "plain", Username: "gateway", Password: "gwpass", AllowPlaintext: true}
	logs := &logBuf{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	s, err := New(cfg, faultEngine(t, engine.Config{}, newFaultSink()), log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(logs.String(), "level=WARN") && !strings.Contains(logs.String(), "level=ERROR") {
		time.Sleep(50 * time.Millisecond)
	}
	out := logs.String()
	t.Logf("log:\n%s", out)
	if strings.Contains(out, "do not exist") {
		t.Errorf("the input reports the existing topic edge-logs as not existing, instead of the missing ACL")
	}
	if !strings.Contains(strings.ToLower(out), "authoriz") {
		t.Errorf("nothing in the log names the authorization failure")
	}
}
