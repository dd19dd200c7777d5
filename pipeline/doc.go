// Package pipeline defines the event, batch and acknowledgement model that every
// logrouter stage shares: sources produce Batches of normalized Events, the
// router splits them per destination, and Sinks accept them. It imports no
// other logrouter package, so inputs, stages and sinks depend on it and never on
// each other.
//
// # Ownership and lifetimes
//
//   - A Batch is created by a source with NewBatch and released by the same
//     source with Release, only after its Ack has fired. Between the two, the
//     batch is read-only for every other stage.
//   - Event.Raw points into the batch's arena. It is valid until the batch is
//     released; a sink that needs the bytes longer must copy them (a durable
//     queue does exactly that when it appends).
//   - Sub-batches made by routing (views) share the parent's arena and Ack; they
//     are never released on their own.
//
// # Acknowledgement
//
// An Ack counts the deliveries owed for one upstream unit (an HTTP request, a
// Kafka offset range). The router adds one reference per destination lane and
// calls Done with the sink's Write error, so "the returned error is the ack":
// an Ack fires nil only when every destination accepted every event routed to
// it. See Ack for the exact contract.
package pipeline
