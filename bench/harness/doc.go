// Package harness is logrouter's end-to-end benchmark: it starts the router
// binary as a subprocess with a generated configuration, receives its output
// in fast counting receivers (Splunk HEC, OpenSearch _bulk) and on disk
// (archive_dir objects, file destinations), drives seeded load from
// bench/loadgen over HTTP (HEC, NDJSON, _bulk), syslog TCP or Kafka, and
// reports throughput, CPU per GB, peak RSS, ingest-to-destination latency
// and, per destination, events lost and duplicated.
//
// Every event carries three fields the harness injects at its start:
//
//	{"bench_run":"<run id>","bench_seq":<n>,"bench_sent_ns":<unix ns>, ...the loadgen event...}
//
// bench_seq numbers the distinct events of a run (a duplicate that loadgen
// repeats byte for byte keeps its original's number and time, so the
// router's deduplication sees identical events); receivers mark the numbers
// they see in a bitmap, so loss and duplicates are exact and cost one bit per
// event. bench_sent_ns is when the request was built, so a receiver's clock
// minus it is the ingest-to-destination latency, kept in a log-linear
// histogram (16 buckets per power of two, about 6% resolution).
//
// The command is bench/cmd/lrbench; bench/README.md explains the scenarios.
package harness
