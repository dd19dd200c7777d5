package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// kafkaPeer is the broker of scenario d: an external one, or kfake in
// this process.
type kafkaPeer struct {
	addr, topic string
	cluster     *kfake.Cluster
	tr          *kafka.Transport
	w           *kafka.Writer
}

const kafkaPartitions = 4

func startKafka(ctx context.Context, spec, run string) (*kafkaPeer, error) {
	k := &kafkaPeer{topic: "lrbench-" + run, tr: &kafka.Transport{DialTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second}}
	if spec == "kfake" {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(kafkaPartitions, k.topic))
		if err != nil {
			return nil, fmt.Errorf("kfake: %w", err)
		}
		k.cluster, k.addr = c, c.ListenAddrs()[0]
		return k, nil
	}
	k.addr = spec
	cl := &kafka.Client{Addr: kafka.TCP(spec), Transport: k.tr, Timeout: 10 * time.Second}
	resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: k.topic, NumPartitions: kafkaPartitions, ReplicationFactor: 1}}})
	if err != nil {
		k.tr.CloseIdleConnections()
		return nil, fmt.Errorf("kafka %s: create topic: %w", spec, err)
	}
	for _, e := range resp.Errors {
		if e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
			k.tr.CloseIdleConnections()
			return nil, fmt.Errorf("kafka %s: create topic %s: %w", spec, k.topic, e)
		}
	}
	return k, nil
}

// writer returns the producer (acks=all, batches of batch records).
func (k *kafkaPeer) writer(batch int) *kafka.Writer {
	k.w = &kafka.Writer{
		Addr: kafka.TCP(k.addr), Topic: k.topic, Balancer: &kafka.RoundRobin{},
		BatchSize: batch, BatchBytes: 16 << 20, BatchTimeout: 2 * time.Millisecond,
		RequiredAcks: kafka.RequireAll, Transport: k.tr,
	}
	return k.w
}

func (k *kafkaPeer) close() {
	if k.w != nil {
		_ = k.w.Close()
	}
	k.tr.CloseIdleConnections()
	if k.cluster != nil {
		k.cluster.Close()
	}
}
