// Package opensearch is the OpenSearch destination ("type: opensearch"): it
// indexes every event routed to it with the bulk API, and accounts for every
// single document of every bulk answer.
//
// # Configuration
//
//	destinations:
//	  - name: opensearch
//	    type: opensearch
//	    opensearch:
//	      urls: ["https://os-1:9200", "https://os-2:9200"]
//	      username: logrouter
//	      password: ${OPENSEARCH_PASSWORD}
//	      tls: {ca_file: /etc/logrouter/opensearch-ca.pem}
//	      index: "logs-{source_type}-{yyyy.MM.dd}"   # default
//	      bootstrap: {enabled: true, ism_policy: logs-30d}
//
// See Config for every key and its default. headers adds HTTP headers to
// every request (for a reverse proxy, or a bulk-compatible server that reads
// its options from headers); Authorization, Content-Type, Content-Encoding,
// Content-Length, Host and User-Agent cannot be set there, because the sink
// and its client set them. For Amazon OpenSearch Service
// replace username/password by aws_sigv4: {region: eu-west-1} (service "es",
// or "aoss" for OpenSearch Serverless; credentials from the AWS default
// chain). OpenSearch Serverless time-series collections do not accept
// client-chosen document ids, which this sink always sets: use a search
// collection, or a managed domain.
//
// VictoriaLogs can take the sink's output on its Elasticsearch-compatible
// endpoint, with bootstrap off (it has no index templates) and headers that
// name the message and time fields:
//
//	opensearch:
//	  urls: ["http://victorialogs:9428/insert/elasticsearch"]
//	  headers: {VL-Msg-Field: message, VL-Time-Field: "@timestamp"}
//
// It ignores _index and _id (so a redelivered event is stored twice). One
// bad document fails the whole request with 400, which the sink reports
// permanent for every event of that request (see Outcomes), although
// VictoriaLogs has kept the documents before the bad one. Documents whose
// time is outside its retention (or too far ahead) are dropped, yet
// answered 201.
//
// # Documents and indices
//
// Every event becomes one bulk item: an action line
//
//	{"create":{"_index":"logs-aws.cloudtrail-2026.11.28","_id":"9f86d081884c7d65"}}
//
// followed by the event's normalized JSON (Event.Raw) verbatim. The _id is
// the event's content hash (Event.Hash, 16 lower-case hex digits), so an
// event delivered twice (a retry after a lost answer, a replay, the same
// event from two collectors) is stored once: with op_type "create" (the
// default) the second copy answers 409, which counts as delivered. Only
// within one index: after a rollover (a data stream's or alias's next
// backing index) a redelivery is stored again. The hash has 64 bits: two
// different events of one index share it with probability about n²/2⁶⁵
// (1e9 events in an index: about one pair a month), and the second is
// answered 409 and counted delivered (the archive has it all the same).
// Identical events are different occurrences too (five failed logins in
// one second from a device whose timestamps have no fraction): the engine
// gives each further copy in a batch (one request, one syslog flush) an id
// of its own (the first's mixed with its number, the same again when the
// batch is resent), so they are as many documents as the SIEM and the
// archive get; copies in different batches within one index share the id
// (deduplication with count_field counts them instead).
// The index comes from the "index" template (default
// "logs-{source_type}-{yyyy.MM.dd}"): {source_type} is the event's source
// type made a valid index name (ASCII lower-cased; \/*?"<>| ,#: control and
// non-ASCII bytes replaced by '_'; truncated so the name fits 255 bytes;
// "unknown" when empty), {priority} is p1, p2 or p3, and a date placeholder
// ({yyyy.MM.dd}, {yyyy.MM}, {yyyy.MM.dd.HH}, ...) is the event's time in UTC.
// A name that would start with - _ or + loses those characters. Names are
// rendered once per distinct (source type, priority, day or hour) of a
// batch, never per event.
//
// Senders choose both the source type (HEC sourcetype, the bulk _index,
// event.dataset) and the event time, and every new name is a new index:
// unbounded, one request could create thousands, until the cluster reaches
// cluster.max_shards_per_node and refuses new indices for every source. So
// the date comes from the event's time only when that is at most
// index_date_max_age (7 days) before and index_date_max_future (1 hour)
// after the event's ingest time (Event.Ingest, else the batch's, else the
// Write's); otherwise from the ingest time (the document is unchanged). And
// a sink names indices after at most max_index_source_types (200) distinct
// sanitized source types, the first it sees; events of any other go to
// "other", and each such source type is logged once at warning level (at
// most one line a second). The set is consulted on the first event of each
// source type in a batch, and allocates only for a type new to the sink. With data streams, set op_type "create" (data
// streams accept nothing else) and an index without a date, such as
// "logs-{source_type}".
//
// # Requests
//
// Write encodes the batch into one buffer (pooled: no allocation per event)
// and cuts it into bulk requests of at most bulk_bytes (uncompressed, 5 MiB
// by default; an event larger than that goes alone). A batch larger than
// 1 MiB is also cut into up to max_concurrent_requests requests (at least
// 512 KiB each), sent concurrently; max_concurrent_requests also bounds the
// requests in flight across concurrent Writes. Bodies are gzipped (gzip_level, default 1;
// Content-Encoding: gzip) unless gzip is false. Requests go through the
// opensearch-go client, which spreads them over the urls and skips nodes
// whose connections fail until they answer health checks again; its own
// retries are off, because the durable queue in front of the sink retries
// (with backoff, only the items that failed) and must see every failure.
// A node that answers 502, 503 or 504 stays in the client's rotation, so
// such a request is sent at once to the next node (up to three nodes in
// all, with several urls) before the answer counts.
//
// # Outcomes
//
// Write returns nil only when every event was delivered. Otherwise it returns
// a *pipeline.BatchError that lists exactly the events that were not: each
// ItemError has the event's index in the batch, the item's (or request's)
// HTTP status and an *Error with OpenSearch's error type and reason, wrapped
// with pipeline.Permanent when no retry can succeed (the queue quarantines
// those and retries the others alone). When every event failed for the same
// request-level reason (the cluster is unreachable, answers 503), Write
// returns that error alone, permanent or not like the items would be.
//
// Each bulk item:
//
//	item status                                   outcome           metric
//	200, 201 (any 2xx)                            delivered         indexed
//	409 version_conflict_engine_exception         delivered (the    conflict_as_delivered
//	  to a create                                   document exists)
//	409 otherwise (to an index op)                retryable         retried
//	429 es_rejected_execution_exception, 5xx, 408 retryable         retried
//	401, 403 (security_exception, an index        retryable, logged retried
//	  block)                                        at error level
//	cluster_block_exception, any status (429:     retryable, logged retried
//	  read-only after the flood-stage disk          at error level
//	  watermark)
//	404 index_not_found_exception (auto-create    retryable, logged retried
//	  off or excluding the index)                   at error level
//	index_closed_exception, any status (400: a    retryable, logged retried
//	  closed index)                                 at error level
//	400 whose reason is the shard limit ("this    retryable, logged retried
//	  action would add [n] total shards, but        at error level
//	  ... maximum shards open")
//	400 "no write index is defined for alias"     retryable, logged retried
//	  (a rollover alias without its write index)    at error level
//	400 (mapper_parsing_exception,                permanent         quarantined
//	  illegal_argument_exception, ...), any
//	  other 4xx
//	no status, 1xx, 3xx                           retryable         retried
//	event with empty Raw (not sent)               permanent         quarantined
//
// Each whole request:
//
//	request outcome                               its items
//	2xx with a bulk answer                        per item, above
//	2xx whose answer is unreadable or does not    retryable
//	  list one item per request item, in order
//	  (an item's _id, when given, is its
//	  request item's or no request item's:
//	  an ingest pipeline may set _id)
//	transport error, timeout (request_timeout)    retryable
//	429, 5xx                                      retryable
//	413 (larger than http.max_content_length)     sent again as two halves,
//	                                                recursively; a single
//	                                                event answered 413 is
//	                                                permanent
//	401, 403                                      retryable, logged at error
//	                                                level (see below)
//	400                                           permanent
//	anything else (404 from a wrong path, a       retryable
//	  proxy's 3xx or 502, ...)
//
// The refusals logged at error level are the cluster's state, not the
// documents': an index OpenSearch will not create, the shard limit a new
// daily index hits at midnight, a write block; they last until an operator
// acts, and quarantining would move a whole day of events aside.
//
// 401 and 403 are retryable on purpose, for requests and items alike:
// expired or rotated credentials, or a role missing a permission, are fixed
// by an operator, and events must still be there when they are; quarantining
// them would silently lose data the moment a password rotates. The sink logs
// them at error level (at most every 10 seconds) so that the fix happens;
// meanwhile the queue holds the events and backs off. Retrying is always
// safe: create answers 409 for a document that made it, index overwrites it
// with the same content.
//
// The counters of Metrics follow the outcomes: for every Write, indexed +
// conflict_as_delivered + retried + quarantined = the batch's events.
//
// # Bootstrap
//
// With bootstrap.enabled the sink makes sure an index template named
// bootstrap.template_name exists for the index pattern (GET, then PUT when
// it is missing; an existing template is left alone). It maps the
// normalized schema: @timestamp and event.ingested as date, event.dataset,
// host.name and logrouter.* as keyword, source.ip and destination.ip as ip
// and source.port and destination.port as integer (both ignore_malformed, so
// a bad value is kept in _source rather than the event refused), message as
// text; other strings are keyword (ignore_above 1024), and fields named
// *message get a text subfield "text" for full-text search. bootstrap.ism_policy
// adds the index patterns to that ISM policy's ism_template, which is how
// ISM attaches a policy to new indices (the policy_id setting, also written
// into the template, no longer does). The first attempt is made by New (for at most 10 seconds); if
// the cluster is unreachable or refuses, New still succeeds and the sink
// retries in the background (1s, doubling to 1 minute) until it works or
// the sink is closed. Until then, indices that OpenSearch creates get
// dynamic mappings.
package opensearch
