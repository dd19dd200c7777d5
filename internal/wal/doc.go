// Package wal is the on-disk write-ahead log that logrouter's per-destination
// durable queues sit on. logrouter acknowledges an event (HTTP 2xx) only once
// it is durably accepted; this package is where "durably" is decided, so its
// format and invariants come first.
//
// # On-disk format
//
// A log is a directory of segment files named "%020d.seg" after their segment
// id: decimal, zero-padded to 20 digits so that name order is id order. Ids
// start at 1 and only grow. The segment with the highest id is the active one,
// the only one ever written; the others are sealed. Other files in the
// directory are ignored, but for the durable mark below.
//
// A segment starts with an 8-byte file header, "LRWAL\x00" followed by the
// format version as a little-endian uint16 (currently 1), and continues with
// records back to back, without padding. A record is a 20-byte header and its
// payload; the header's fields are little-endian uint32s:
//
//	offset  size  field
//	     0     4  magic        0x4C525131 (the bytes "1QRL")
//	     4     4  length       payload bytes, at most 256 MiB
//	     8     4  count        events in the payload: opaque here, kept for
//	                           exact loss accounting
//	    12     4  payload CRC  CRC-32C (Castagnoli) of the payload
//	    16     4  header CRC   CRC-32C of header bytes 0 to 15
//	    20     n  payload
//
// Beside the segments, a log written under SyncAlways keeps a durable mark,
// the file "synced.mark": 24 bytes, little-endian, rewritten in place after
// every fsync that completes:
//
//	offset  size  field
//	     0     4  magic        0x4B4D5752 (the bytes "RWMK")
//	     4     8  segment      the active segment's id
//	    12     8  offset       the end of its records known fsynced
//	    20     4  CRC          CRC-32C of bytes 0 to 19
//
// The mark is written after the fsync it reports and fsynced at Open, at
// each segment roll and within a second of each write (a timer, off the
// acknowledgement path), so
// after a power loss it names what was durable at some earlier fsync, never
// more (see Durable mark below). A clean Close removes it (nothing is
// unsynced then, and a release without marks run next cannot leave it
// stale); a write or fsync of it that fails empties it. Under SyncInterval
// there is none: Open removes it (and fails if it cannot: its records are
// acknowledged before their fsync).
//
// A segment rolls when the next record would take it past
// Options.SegmentBytes (64 MiB by default); a record too large for that goes
// alone into a segment of its own. A Pos names a record by segment id and the
// byte offset of its header, so Pos order is log order.
//
// # Durability: what an Append that returned nil guarantees
//
// Under SyncAlways (the default), Append returns nil only after the record's
// bytes were fsynced: it survives a process crash, an OS crash and a power
// failure. Concurrent Appends share fsyncs (group commit): each writes its
// record under the log's lock and waits; the first waiter to find no fsync
// running fsyncs everything written so far, on behalf of all of them. A
// record becomes visible to Readers, and to End, only once it is fsynced, so
// no Reader ever hands on a record that a crash could take back.
//
// Under SyncInterval, Append returns nil after write(2): the record is in the
// kernel and survives a crash of the process, but not of the machine, until
// the next background fsync, at most Options.SyncInterval later. Readers see
// it at once. An OS crash or power failure may lose acknowledged records
// written since the last fsync; the log still opens, and a record cut in two
// is a torn tail (below), not corruption. If a background fsync fails, the
// records it covered may be lost (the kernel may have dropped them), and every
// Append fails until an fsync succeeds.
//
// Under both policies a segment is fsynced before the log moves on to the
// next one, and a new segment file is created with its header, fsynced and
// its directory fsynced before any record is written to it; TrimBefore
// fsyncs the directory after deleting. So unsynced bytes only ever exist at
// the end of the active segment, and a crash can only cut the end of the
// last segment.
//
// An Append that returns an error did not write its record: the log truncates
// whatever part of it reached the file (if the truncate fails too, the log
// retries it before its next write or fsync and fsyncs nothing meanwhile),
// and no Reader of this Log ever sees it. Under SyncAlways, when an fsync
// fails, every Append waiting on it fails and the file is cut back to the end
// of the last successful fsync. Errors are not sticky: after a full disk
// (ENOSPC) or a failed fsync, later Appends succeed once the cause is gone.
// One caveat that no user-space code can remove: the kernel may write a
// failed record's pages back on its own before the truncate is durable, so
// after a crash such a record may reappear. The failure mode is a duplicate,
// never the loss of an acknowledged record.
//
// # Recovery
//
// Open scans every segment, in id order, and reports what it found in a
// Recovery. It fails only on I/O errors it cannot get past (and on a segment
// header with the right magic but an unknown version: a newer release wrote
// it, and reading it as damage would destroy it); damaged data never fails
// start-up.
//
//   - Torn tail. In the last segment, everything after the last complete
//     record (valid header, all payload bytes present) is an incomplete write:
//     a header or payload cut short, trailing zeros (a file extended but not
//     yet filled), or other bytes with no valid record after them. Open
//     truncates it and counts it in TornTailBytes. Under SyncAlways it was
//     never acknowledged. A last segment shorter than its file header (a crash
//     while creating it) gets its header rewritten. The one thing a torn tail
//     can hide is damage to the final record of the log itself: bit rot that
//     destroys its header is indistinguishable from an unfinished write.
//   - Durable mark. A power loss during a group fsync can leave any subset
//     of the unsynced pages on disk, not a prefix: a record whose payload
//     did not reach the disk can be followed by one that did. In the last
//     segment, a damaged record or bad header at or past the offset the
//     durable mark names for that segment was written after the last fsync
//     known to have finished, so under SyncAlways never acknowledged: it is
//     skipped and left in place like damage, but counted in UnsyncedRecords
//     and UnsyncedBytes, not as lost, and Readers report it with
//     CorruptError.Unsynced. The records after it stay: the mark can lag
//     (by up to markSyncInterval, one second), and a stale mark must never
//     cost an intact record, only the count of media damage to a record
//     acknowledged in that last second, read as an unfinished write. A
//     mark left by a crash, then stale under a release without marks run
//     on the same segment (a rollback), can read such damage of its records
//     the same way. Without a mark for the last segment (none: after a
//     clean Close, or a garbled one, or one naming another segment),
//     damage counts as below. Damage before the mark is lost.
//   - Bad payload. Anywhere, a record with a valid header but a bad payload
//     CRC is skipped and left in place; it counts in CorruptRecords, and its
//     count, vouched for by the header CRC, in LostEvents: the loss is exact.
//     Outside the last segment, a record whose payload is cut short by the end
//     of the file counts the same way.
//   - Bad header. Where a record header is invalid and a complete record
//     follows, a resync scan moves byte by byte to the next offset holding a
//     valid header (magic and header CRC); the bytes skipped count in
//     CorruptBytes (the events in them are unknown). Outside the last segment,
//     bytes at the end with no valid header after them count the same way.
//   - Segment file header missing (file shorter than 8 bytes, outside the
//     last segment) or garbled: its bytes count in CorruptBytes and the
//     records after it are read as usual. If it is the last segment, Open
//     starts a new one for appending.
//   - A missing segment id between two present ones is reported in Details.
//
// Every byte of every segment is accounted for exactly once: segment file
// headers, valid records (Records, Events, Bytes of payload), skipped records
// (CorruptRecords, LostEvents), skipped bytes (CorruptBytes), unfinished
// writes past the durable mark (UnsyncedBytes) and the torn tail
// (TornTailBytes). Details has one line per problem, naming the file and
// offset. Damage other than a torn tail stays on disk, so every Open reports
// it again until TrimBefore removes it; Readers skip the same regions,
// returning a *CorruptError once per region as they pass it, so a queue can
// count the loss where it happens.
//
// Before it returns, Open fsyncs the active segment and the log's directory
// and its parent: a killed process may have left records written and not
// yet fsynced, or a segment or directory created whose entry was not yet
// fsynced, and the new process must not acknowledge records on top of what
// a power loss could still take (or seal a segment a power loss could still
// tear).
//
// # Not provided
//
// The log does not lock its directory against a second process; the caller
// must open each directory once. Records are not compressed or encrypted.
package wal
