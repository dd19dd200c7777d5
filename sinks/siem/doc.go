// Package siem holds the SIEM destinations: Splunk HTTP Event Collector
// ("type: splunk_hec", NewHEC) and syslog forwarding in RFC 5424 or RFC 3164
// with a JSON or ArcSight CEF body ("type: syslog", NewSyslog). Several SIEM
// destinations can coexist: call New once per destination.
//
// Both are pipeline.Sinks that sit behind the destination's durable queue
// (package pipeline/queue): the queue retries every retryable error forever
// with jittered backoff, quarantines permanent ones and drains P1 first. The
// sinks therefore never drop and never retry for long themselves: they
// classify each outcome (retryable, permanent, or per event with a
// *pipeline.BatchError) and return.
//
// # Latency
//
// P1 events must reach the SIEM within 1 s of ingest in steady state.
// Nothing in this package waits for more data: a Write sends what it is
// given at once (the queue hands batches over as they come; how long a batch
// may wait to fill up, batch_timeout, is the queue's concern). Every event's
// age at delivery (now - Event.Ingest) is observed in the
// logrouter_siem_event_age_seconds histogram per destination and priority;
// its P1 series is the ingest-to-SIEM latency.
//
// # Splunk HEC
//
// Events go to <url>/services/collector/event, one JSON envelope per event,
// concatenated (no separator), gzip-compressed (level 1) unless gzip: false:
//
//	{"time":1795824000.123,"host":"<host.name of the event, else default_host>",
//	 "source":"logrouter","sourcetype":"<Event.SourceType or sourcetype>",
//	 "index":"<index, omitted when empty>","event":<Event.Raw verbatim>,
//	 "fields":{<fields, omitted when empty>}}
//
// time is Event.Time in epoch seconds with a millisecond fraction. A batch
// larger than max_batch_bytes (of uncompressed envelopes) is split into
// several requests, at most max_concurrent_requests in flight per
// destination. The token (token, or token_file read at start and re-read on
// every 401/403 to pick up a rotation) is sent as "Authorization: Splunk
// <token>" and never logged: Secret formats as "[redacted]".
//
// Responses are classified as follows (N is the response's
// invalid-event-number, counted from 0 within the request):
//
//	HTTP  HEC code                      outcome
//	200   0  Success                    delivered (with ack: once its ackId is confirmed)
//	400   6  Invalid data format, N     events before N delivered (Splunk indexed them),
//	      12 Event field is required    event N permanent (quarantine), events after N
//	      13 Event field cannot be blank sent again at once in the same Write (Splunk
//	                                    did not read them; it is not busy); without N,
//	                                    the whole request is permanent
//	400   7  Incorrect index            events before N delivered, the rest permanent:
//	                                    a configuration error; fix "index" and replay
//	                                    the quarantine. (400s with N and indexer
//	                                    acknowledgement: the events before N have no
//	                                    ackId, so they are sent again, counted in
//	                                    logrouter_siem_resent_events_total
//	                                    {reason="invalid_partial"})
//	400   5  No data, other codes       permanent for the whole request
//	400   10 Data channel is missing    retryable, logged as an error
//	400   11 Invalid data channel       retryable, logged as an error
//	401   2  Token is required          retryable, logged as an error (rate-limited),
//	401   3  Invalid authorization      token_file re-read. Deliberately not
//	403   4  Invalid token              permanent: a revoked or mistyped token is an
//	403   1  Token is disabled          operator error, and fixing it must not have
//	                                    sent P1 data to quarantine. Events wait in
//	                                    the queue until the token works again.
//	404, 405                            retryable, logged as an error (wrong url, or
//	                                    HEC disabled): a typo must not lose data either
//	408, 429                            retryable
//	413   Content too large             the request is halved and both halves sent
//	                                    again at once; a single event that is still
//	                                    too large is permanent
//	503   9  Server is busy, other 5xx  retryable; with invalid-event-number N
//	                                    (Splunk took the events before N, then its
//	                                    queues filled) events before N are delivered,
//	                                    the rest retryable. With indexer
//	                                    acknowledgement the whole request is
//	                                    retried (the first N have no ackId), and
//	                                    those N counted in logrouter_siem_resent_
//	                                    events_total{reason="busy_partial"}
//	other 4xx with an HEC answer        permanent for the whole request
//	other 4xx without one               retryable, logged as an error: not Splunk
//	                                    but something in the way (a proxy's 407,
//	                                    nginx's 400 for plain HTTP on a TLS port)
//	other (1xx, 3xx)                    retryable
//	connection error, timeout           retryable; Splunk may have indexed the
//	                                    request, so the retry can duplicate
//
// With indexer acknowledgement (ack.enabled) every request carries
// X-Splunk-Request-Channel (ack.channel, default a random UUID per start; the
// header is sent without acks too, so that a token with acknowledgement on
// works either way), the "ackId" of each 200 answer is polled with POST
// /services/collector/ack?channel=... every ack.poll_interval, and Write
// returns nil only once every request's ackId is confirmed. A request not
// confirmed within ack.timeout is sent again as a new request (at most
// three times within one Write, then the queue takes over), and the ackIds
// of the copies sent before stay polled until the Write ends: the first
// confirmation of any copy delivers the events (Splunk may confirm minutes
// late; an ack always later than ack.timeout used to confirm nothing and
// have the events indexed again each round). The client keeps cookies, so
// behind a load balancer with sticky sessions (Splunk's advice for
// acknowledgement: an ackId is known only to the indexer that gave it)
// every request and poll of the channel reaches one indexer. The events of
// every such ack timeout are counted in logrouter_siem_resent_events_total
// {reason="ack_timeout"}, and they are the only source of duplicates in ack
// mode besides connection errors, a partly taken 503 (reason
// "busy_partial") and the events before an invalid one (reason
// "invalid_partial"). If the ack endpoint answers 400 code 14
// (ACK is disabled), or a 200 answer carries no ackId, the destination logs
// an error once and falls back to no-ack mode: "delivered" then means HEC
// answered 200.
//
// # Syslog
//
// Each event becomes one syslog message:
//
//	RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID - MSG
//	RFC 3164: <PRI>Mmm dd hh:mm:ss HOSTNAME APP-NAME: MSG
//
// PRI is facility*8+severity (facility default local4 = 20; severity by
// priority, default P1 2 crit, P2 4 warning, P3 6 info). TIMESTAMP is
// Event.Time in UTC (microseconds in RFC 5424). HOSTNAME is "hostname" when
// set, else the event's host.name, else default_host. MSGID is the event's
// source type. MSG is Event.Raw (format: json) or a CEF record (format:
// cef). Messages are framed with RFC 6587 octet counting ("LEN MSG",
// default) or a trailing newline (framing: newline; CR and LF inside a
// message are then replaced by spaces) and sent over TCP or TLS.
//
// A CEF record is
//
//	CEF:0|device_vendor|device_product|device_version|signature_id|name|severity|extension
//
// with the header fields escaped as the ArcSight CEF specification says
// (backslash and pipe are preceded by a backslash; CR and LF, which the
// specification does not allow in the header, become spaces) and extension
// values escaped too (backslash and equals sign are preceded by a
// backslash; LF and CR become the two characters \n and \r). Extension
// keys come from the configuration and are not escaped (they are checked to
// be [A-Za-z0-9_]). See CEFConfig for the field mapping and its defaults.
//
// One persistent connection per destination carries every batch, which is
// framed completely before it is written with a single Write, so a message
// is never split across connections. TCP has no application-level
// acknowledgement: "accepted" (Write returns nil) means written to the
// socket (for TLS: encrypted and written; crypto/tls does not buffer). A
// goroutine reads the connection so that a receiver's close or reset is
// seen at once; when the connection breaks, the destination reconnects with
// jittered backoff, resends the batches it wrote during replay_age before
// the break, and on Linux any older ones whose bytes the receiver's TCP
// had not acknowledged (SIOCOUTQ, read at each write and at the break: a
// receiver that stopped reading leaves them in this host's send queue,
// each write succeeding until it is full) (at most replay_bytes, though
// the most recent batch is kept whatever its size), then the current batch; a connection that breaks
// while it resends them (a receiver that accepts and resets while it
// restarts) keeps all of them for the next. For replay_age after a break
// the window is not trimmed to replay_bytes: a batch that would take it
// past that is refused, retryably, before it is written, and waits in the
// queue until a connection has lasted replay_age (a load balancer without
// a backend, or a TLS 1.3 receiver refusing the client's certificate,
// accepts each connection and breaks it after the write "succeeded"), and
// the reconnect backoff grows across such breaks. The reconnect and resend
// start when the break is seen, not at the next batch (a quiet P1
// destination may get none for hours), and Close resends a pending window
// before it lets go (with up to three connections, within its deadline;
// what it could not resend is logged at error level). So a receiver
// restart loses nothing that it had not read for longer than replay_age,
// at the price of duplicates, which are counted
// (logrouter_siem_resent_events_total{reason="replay"|"broken_connection"}).
// confirm_with_close: true trades throughput for certainty: each batch gets
// its own connection, which is half-closed after the write; Write returns
// nil only once the receiver closed its side too, that is after it read
// everything (over TLS: its close_notify and then a clean TCP close; a
// receiver that closes with data unread resets the connection, and the
// batch is sent again).
//
// # Wiring
//
// The config loader decodes HECConfig or SyslogConfig from a destination
// block (types "splunk_hec" and "syslog"; ${ENV} in the token is expanded by
// the loader before parsing); the app sets default_host to the router's node
// name when it is empty, passes WithLogger and WithMetrics (NewMetrics on
// the app's registry, once for all SIEM destinations) and puts the sink
// behind its queue.
package siem
