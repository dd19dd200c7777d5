// Package normalize rewrites decoded events into logrouter's canonical JSON.
//
// One Normalizer per goroutine: it owns a tree of the current event that
// points into the fastjson values of the caller's parser, so an event must be
// built, inspected (Lookup) and written (AppendTo) before that parser parses
// anything else. Nothing here allocates per event in steady state: the tree,
// the path buffer and the scratch space are reused.
//
// What normalization does, in order:
//  1. walks the input object, dropping configured fields, moving renamed
//     fields to their target path (creating or merging objects), and
//     resolving duplicate keys: the last occurrence in an object wins, in the
//     position of the first;
//  2. takes @timestamp from the envelope time (HEC "time") or the first
//     configured timestamp field that parses, falling back to the ingest time,
//     and removes the source field unless told to keep it;
//  3. adds metadata: event.dataset (the source type), event.ingested,
//     host.name from the envelope when absent, labels from HEC fields, and
//     logrouter.{input,protocol,peer,token,index,source};
//  4. writes canonical JSON: @timestamp first, strings re-escaped (control
//     characters escaped, invalid UTF-8 replaced), invalid numbers written as
//     strings, null/empty values and objects left empty by that removed.
//
// The event's Hash sums one 64-bit hash per leaf (path and value; an empty
// object or array counts as a leaf), so key order and whitespace never
// change it; ingest metadata (event.ingested and logrouter.*) is excluded,
// so the same event sent twice hashes the same, except the sender of a
// message that does not name its host (EventMeta.Sender). @timestamp is hashed: for
// an event with no time of its own it is the ingest time, so identical
// timeless lines sent at different times (a heartbeat) stay distinct
// events, with distinct OpenSearch _ids; a resend of such a line is only
// recognized within the same millisecond.
package normalize

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/timeparse"
	"github.com/logrouter/logrouter/pipeline"
)

// Errors returned by Build; the caller quarantines the record with the reason.
var (
	ErrNotObject      = errors.New("event is not a JSON object")
	ErrTooManyFields  = errors.New("event has more fields than normalize.max_fields")
	errNoEventContent = errors.New("event has no content")
)

// Reason returns the quarantine reason label for an error returned by Build.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrNotObject):
		return "not_object"
	case errors.Is(err, ErrTooManyFields):
		return "too_many_fields"
	case errors.Is(err, errNoEventContent):
		return "empty_event"
	}
	return "normalize_error"
}

// EventMeta is per-event data from the protocol envelope. All byte slices may
// point into the caller's parser and must stay valid until AppendTo returns.
type EventMeta struct {
	// Time is the envelope's time (HEC "time") in unix nanoseconds; 0 if none.
	// It wins over the event's own timestamp fields.
	Time int64
	// DefaultTime, unix nanoseconds (0: none), is the time of an event
	// without a time field of its own, instead of the ingest time: a
	// batch envelope's time for the records split from it, a CloudWatch
	// log event's timestamp for its JSON message.
	DefaultTime int64
	// SourceType, when set, is the source type of this event (HEC
	// sourcetype); it overrides an event.dataset found in the event.
	SourceType []byte
	// DefaultSourceType applies when neither SourceType nor the event's own
	// event.dataset is set (the token's or the input's configured default).
	DefaultSourceType []byte
	// Host (HEC host) becomes host.name when the event has none.
	Host []byte
	// Sender, when set, is part of the event's content hash (not written):
	// the address of a sender whose message does not name its host (a
	// syslog message without HOSTNAME, as a Cisco ASA sends by default),
	// so that two devices' identical messages stay two events, while one
	// device's resend is still recognized.
	Sender []byte
	// Source (HEC source) becomes logrouter.source.
	Source []byte
	// Index (HEC index, bulk _index) becomes logrouter.index.
	Index []byte
	// Fields (HEC indexed fields, an object) become labels.
	Fields *fastjson.Value
	// KeepOwnLogrouter keeps a "logrouter" member of the event's own (the
	// syslog parser's parse_status; a logrouter edge's metadata read back
	// from Kafka). Otherwise it is dropped: ingest metadata is logrouter's
	// alone, never what a sender claims (a spoofed logrouter.token or
	// logrouter.index).
	KeepOwnLogrouter bool
	// Normalized says the record is an event a logrouter already
	// normalized (an edge's, through Kafka): no source profile is applied
	// again. Its renames were applied at the edge, and applying them to
	// the result moves its ECS objects (crowdstrike.falcon's "event:
	// crowdstrike.event" took the edge's event.action, and the detection
	// missed its P1 rule), and a profile's time fields would replace the
	// edge's @timestamp (another _id for the same event).
	Normalized bool
	// Head and Tail, when set, are objects whose members are taken before
	// and after those of the event's object, as if the three were one
	// object: the syslog input's header fields around a JSON payload it
	// parsed once (parse.SplitJSON). Their top-level keys must not repeat
	// the event's (the syslog parser leaves those out). Ignored for text.
	Head, Tail *fastjson.Value
}

// Compiled is a validated Config prepared for fast lookups; it is immutable
// and shared by all Normalizers.
type Compiled struct {
	cfg       Config
	tsFields  []Path
	actions   actionTable // by source path: drop, rename, or interior
	pathRules bool
	maxFields int
	profiles  *profiles
	key       secretKey
	// newTextParser makes a Normalizer's parser for profiles' parse with
	// format syslog (Config.NewTextParser).
	newTextParser func() TextParser
}

// actionTable maps field paths to actions by hashKey (the same hash the
// root index uses, so a root key is hashed once).
type actionTable struct {
	mask uint64
	// tags holds per slot its path's hash with the low bit set (tag), 0
	// for an empty slot: probed apart from the slots, so that a lookup,
	// one per member walked (most of them missing), reads 8 bytes a
	// slot, not a slot (120 bytes with its hash and used flag: a
	// profile's table of 512 slots was 60 KiB, more than the L1 cache,
	// and cost BenchmarkNormalizeRoute 2-5%).
	tags  []uint64
	slots []actionSlot
}

type actionSlot struct {
	path string
	a    action
}

// tag is h as tags hold it: never 0.
func tag(h uint64) uint64 { return h | 1 }

func newActionTable(m map[string]action) actionTable {
	size := 8
	for size < 2*len(m) {
		size *= 2
	}
	t := actionTable{mask: uint64(size - 1), tags: make([]uint64, size), slots: make([]actionSlot, size)}
	for p, a := range m {
		h := hashString(p)
		i := h & t.mask
		for t.tags[i] != 0 {
			i = (i + 1) & t.mask
		}
		a.src = p
		if len(a.target) > 0 {
			a.targetHash = hashKey(a.target[0])
		}
		t.tags[i] = tag(h)
		t.slots[i] = actionSlot{path: p, a: a}
	}
	return t
}

// get returns the action at path (h: its hashKey), or nil. It points into
// the table, which is immutable: an action is not copied per member.
func (t *actionTable) get(path []byte, h uint64) *action {
	want := tag(h)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		switch t.tags[i] {
		case want:
			if sl := &t.slots[i]; sl.path == string(path) {
				return &sl.a
			}
		case 0:
			return nil
		}
	}
}

// action is what happens to a field path. interior marks a proper prefix of
// a drop or rename path, so that lookups stop early in unaffected subtrees.
type action struct {
	drop     bool
	interior bool
	target   [][]byte // rename target segments
	// targetHash is hashKey of target's first segment, a root key: a
	// rename looks it up in the root index once per member it moves.
	targetHash uint64
	// within: the rename moves a scalar only, an object stays where it
	// is. Either the target lies inside the source ("host" -> "host.name":
	// an object there is already the shape the target names a member of,
	// a Beat's host object, and moving it under itself made host.name an
	// object), or the profile says so (values_only: FortiGate's agent=
	// pair is a user agent, a Beat's agent object describes the Beat).
	within bool
	lift   bool   // a list whose objects' members join the parent (ProfileSpec.Lift)
	src    string // the source path (the table's key), for renames (see renamed)
	// wild are the wildcard segments below an interior path: a member
	// whose key begins with a prefix is looked up as that segment (see
	// wildSegment).
	wild []wildSegment
}

// wildSegment is a profile path's segment ending in '*' (the SD-ID of a
// Juniper device, junos@2636.1.1.1.2.129, whose tail is the platform's
// number, as junos@*): a member key beginning with prefix is looked up as
// seg, so that the paths below it name the member whatever its key.
type wildSegment struct {
	prefix []byte // seg without its '*'
	seg    []byte
}

// renameWithin reports whether rename target to lies inside from.
func renameWithin(from, to string) bool {
	return len(to) > len(from) && to[len(from)] == '.' && to[:len(from)] == from
}

// Compile validates cfg and prepares it.
func Compile(cfg Config) (*Compiled, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := parseHashKey(cfg.HashKey)
	if err != nil {
		return nil, err
	}
	c := &Compiled{
		cfg:       cfg,
		maxFields: cfg.MaxFields,
		key:       key,
	}
	actions := make(map[string]action)
	if c.maxFields == 0 {
		c.maxFields = 2000
	}
	for _, f := range cfg.TimestampFields {
		c.tsFields = append(c.tsFields, CompilePath(f))
	}
	addInterior := func(p string) { markInterior(actions, p) }
	for from, to := range cfg.Rename {
		a := actions[from]
		a.target, a.within = splitPath(to), renameWithin(from, to)
		actions[from] = a
		addInterior(from)
	}
	for _, d := range cfg.Drop {
		a := actions[d]
		a.drop = true
		actions[d] = a
		addInterior(d)
	}
	if err := overlappingWild(actions); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	c.actions = newActionTable(actions)
	c.pathRules = len(actions) > 0
	if len(cfg.Profiles) > 0 {
		ps, err := compileProfiles(cfg.Profiles, actions, cfg.CompileMatcher)
		if err != nil {
			return nil, err
		}
		c.profiles = ps
		c.newTextParser = cfg.NewTextParser
		if cfg.NewTextParser == nil {
			for i := range cfg.Profiles {
				if sp := &cfg.Profiles[i]; sp.Parse != nil && (sp.Parse.Format == "syslog" || sp.Parse.Format == "windows") {
					return nil, fmt.Errorf("%s:%d: profile %q: parse format %s needs the syslog parser (load profiles with the router's configuration)", sp.File, sp.Line, sp.Name, sp.Parse.Format)
				}
			}
		}
	}
	return c, nil
}

func splitPath(p string) [][]byte {
	parts := strings.Split(p, ".")
	out := make([][]byte, len(parts))
	for i, s := range parts {
		out[i] = []byte(s)
	}
	return out
}

// node kinds
const (
	kObject  uint8 = iota + 1
	kValue         // a fastjson scalar or array
	kStr           // data holds an unescaped string
	kLit           // data holds a JSON literal
	kRemoved       // skipped when writing and looking up
)

type node struct {
	key   []byte
	val   *fastjson.Value
	data  []byte
	kind  uint8
	plain bool // key needs no escaping (plainKey): written as it is
	skip  bool // excluded from the hash (ingest metadata)
	moved bool // a scalar put here by a rename (see renames)
	// hashed: in the hash though under a skipped parent (the event's own
	// values set aside under logrouter.unconverted: see setAside).
	hashed bool
	gen    int32 // input object it came from; 0 when synthesized
	first  int32
	last   int32
	next   int32
}

// Normalizer builds and writes one event at a time. It is not safe for
// concurrent use; keep one per goroutine (engine workers pool them).
type Normalizer struct {
	c        *Compiled
	matchers []scratchEntry // per-Normalizer state of matchers (see Scratch)
	reParts  [][]byte       // a regex split's parts (scratch)
	nodes    []node
	// rootIdx indexes the root object's members by key hash (open
	// addressing, node index + 1, 0 = empty) so that building and looking up
	// wide events is O(1) per key instead of a scan of the root.
	rootIdx   [rootSlots]int32
	rootCount int
	// rootBloom has bit h>>56 set for the hash h of every key in rootIdx:
	// a lookup of a key the event lacks (most of the rules' fallback fields,
	// for most events) ends at one bit instead of a probe of the index.
	rootBloom [4]uint64
	// sender is EventMeta.Sender of the last Build (hashed by AppendTo).
	sender []byte
	// hashedAside sums the hashes of the hashed nodes under skipped
	// parents while an event is written (see node.hashed).
	hashedAside uint64
	// noneWords are the profile's words for none (ProfileSpec.NoneValues).
	noneWords [][]byte
	// wildMember is the key of the member a wildcard segment stands for
	// while its members are walked (see rankSource).
	wildMember []byte
	// walkKey is the input key the walk checked last and walkPlain
	// whether it is plain (plainKey): newNode reuses the answer, once, for
	// a node made with that very key (same bytes, same length). It never
	// outlives the walk of its object, so no other bytes that come to sit
	// at that address can take the answer.
	walkKey   []byte
	walkPlain bool
	path      []byte
	gen       int32
	fields    int
	// edgeMeta is 1 while an edge's event is walked at a gateway
	// (EventMeta.Normalized), 2 inside its logrouter object; edgeEvent is
	// its event object's node: what ownMeta leaves out of max_fields.
	edgeMeta  int
	edgeEvent int32
	// headGen is the gen of EventMeta.Head's members (0: no head): the
	// syslog input's header fields around a JSON payload.
	headGen int32
	err     error
	kvs     []kvPair
	litP    fastjson.Parser // reads keepBoth's arrays back for hashing
	// renames records where each renamed scalar came from (its object,
	// key and source path), so that a value of the same field from another
	// source decides by origin, not by member order (see setRenamed).
	renames   []renamed
	lits      []byte     // converted values of the current event
	unesc     []byte     // unescaped literal strings handed to rules (see literal)
	dropOwnLR bool       // drop the event's own root "logrouter" member (EventMeta.KeepOwnLogrouter)
	underlay  bool       // walking fields parsed from the event's text (parseText): existing ones win
	tzDef     int64      // offset of times without a zone: the event's event.timezone (eventZone)
	parsedTS  int32      // the "timestamp" parseText added, or -1
	hdrTS     int32      // parsedTS when it is a syslog header's around a JSON payload (see headerTime), or -1
	tp        TextParser // made on first use (Config.NewTextParser)
	tpBuf     []byte     // tp's output, walked into the tree: valid until the next Build
	tpJSON    fastjson.Parser
	// tpObj is the object parseText made of this event's text (tpMsg:
	// from a Security event's message, parseWindowsMessage); tpReuse asks
	// the next parseText to walk it again (a variant's rebuild) instead
	// of parsing the same text twice.
	tpObj        *fastjson.Object
	tpMsg        bool
	tpReuse      bool
	keepExisting bool         // walk adds only members the parent does not have (HEC fields into labels)
	liftParent   int32        // the object a lifted list's members are walked into, -1 when none
	liftPos      int          // the position in that list of the element walked (paramKey)
	act          *actionTable // renames and drops of this walk: global, or a profile's
	actOn        bool
	scratch      []byte

	// per-event results
	time       int64
	timeNode   int32  // the node n.time was read from, -1 when none (the envelope, a join, ingest)
	dsBuf      []byte // a detected event's source type (detectedDataset)
	keyScratch []byte // FieldKey's rendering of a field
	sourceType []byte
	tsBuf      []byte

	// per-batch caches
	ingestNs  int64
	ingestBuf []byte
	stBuf     []byte // a long source type, bounded (boundSourceType)
	meta      *pipeline.Meta

	interned map[string]string
	keyed    bool // normalize.hash_key is set (c.key.on, kept here for the hot path)
}

type kvPair struct {
	key []byte
	val *fastjson.Value
}

// New returns a Normalizer for c.
func (c *Compiled) New() *Normalizer {
	return &Normalizer{
		c:          c,
		keyed:      c.key.on,
		nodes:      make([]node, 0, 128),
		interned:   make(map[string]string),
		liftParent: -1,
	}
}

const maxInterned = 4096

const (
	rootSlots    = 256
	rootMaxIndex = rootSlots / 2 // past this load, fall back to scanning
)

// hashKey hashes a key or dotted path for the normalizer's in-memory tables
// (renames and drops, the root index). It reads eight bytes at a time:
// paths such as "aws.cloudtrail.userIdentity.arn" are hashed for every
// member, and the byte-at-a-time FNV-1a it replaced showed in profiles. The
// splitmix finalizer spreads the low bits the tables index by. Its values
// live only in this process: nothing persisted or sent depends on them
// (the content hash is leafHash's).
func hashKey(b []byte) uint64 {
	const m = 0xff51afd7ed558ccd
	// The length is mixed in last, by the finalizer, not first: a
	// finalizer of the length ahead of the first word was on the
	// critical path of every key's hash.
	size := uint64(len(b))
	h := uint64(0x9e3779b97f4a7c15)
	for ; len(b) >= 8; b = b[8:] {
		h = bits.RotateLeft64((h^binary.LittleEndian.Uint64(b))*m, 31)
	}
	if n := len(b); n > 0 {
		// The rest (1-7 bytes) in one word; the length, mixed in at
		// the end, tells the overlapping reads of different lengths
		// apart.
		var t uint64
		switch {
		case n >= 4:
			t = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
		default:
			t = uint64(b[0])<<16 | uint64(b[n/2])<<8 | uint64(b[n-1])
		}
		h = bits.RotateLeft64((h^t)*m, 31)
	}
	return mix64(h ^ size)
}

func hashString(s string) uint64 { return hashKey(s2b(s)) }

// Path is a field path compiled for repeated lookups (see CompilePath).
type Path struct {
	s string
	// cuts are the lengths of the candidate root keys, longest first: the
	// whole path (a literal dotted key) and then each dotted prefix.
	cuts   []int
	hashes []uint64
	// mask has the root filter's bit (see rootBloom) of every candidate
	// root key: a path none of whose candidates the event's root can hold
	// is missing after one test, without touching cuts or hashes.
	mask [4]uint64
}

// CompilePath prepares a dot-separated field path for LookupPath.
func CompilePath(p string) Path {
	cp := Path{s: p}
	cp.cuts = append(cp.cuts, len(p))
	cp.hashes = append(cp.hashes, hashString(p))
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '.' {
			cp.cuts = append(cp.cuts, i)
			cp.hashes = append(cp.hashes, hashString(p[:i]))
		}
	}
	for _, h := range cp.hashes {
		cp.mask[h>>62] |= 1 << (h >> 56 & 63)
	}
	return cp
}

// String returns the path as written.
func (p *Path) String() string { return p.s }

// RootMask returns the root filter bits of the path's candidate root keys:
// when none of them is set in an event's RootFilter, the path is missing
// from the event.
func (p *Path) RootMask() [4]uint64 { return p.mask }

// RootFilter returns the event's root filter (a 256-bit Bloom filter of its
// root keys, valid until the next Build), or nil when the root is too wide
// to be filtered. A Path whose RootMask shares no bit with it is missing.
func (n *Normalizer) RootFilter() *[4]uint64 {
	if n.rootCount > rootMaxIndex {
		return nil
	}
	return &n.rootBloom
}

// MaxSourceTypeBytes bounds a source type (Event.SourceType, and
// event.dataset where it comes from the envelope). Senders choose it (HEC
// sourcetype, an edge event's event.dataset), bounded before only by
// max_event_bytes, and the router keeps source types in maps that live as
// long as a worker, a queue or the process (intern tables, the dedup
// counters): 4096 of 256 KiB each were a gigabyte. Splunk's own are short
// (its sourcetype names are identifiers); S3 keys and Kafka topics cut
// theirs to 200 bytes.
const MaxSourceTypeBytes = 256

// boundSourceType returns st, or, longer than MaxSourceTypeBytes, its
// first bytes (at a UTF-8 boundary where st has one near) with "~" and the
// FNV-1a hash of the whole in hex, in n.stBuf (valid until the next
// Build): two long source types that share their first bytes stay apart
// (they route, count and deduplicate apart), and the cut is never empty.
func (n *Normalizer) boundSourceType(st []byte) []byte {
	if len(st) <= MaxSourceTypeBytes {
		return st
	}
	i := MaxSourceTypeBytes - 9
	for j := 0; j < utf8.UTFMax-1 && st[i]&0xC0 == 0x80; j++ {
		i--
	}
	h := uint32(2166136261)
	for _, c := range st {
		h = (h ^ uint32(c)) * 16777619
	}
	n.stBuf = append(append(n.stBuf[:0], st[:i]...), '~')
	for sh := 28; sh >= 0; sh -= 4 {
		n.stBuf = append(n.stBuf, "0123456789abcdef"[h>>uint(sh)&0xf])
	}
	return n.stBuf
}

// intern returns s as a string without allocating for source types seen
// before; the table is bounded in count and in length (a source type past
// MaxSourceTypeBytes is not kept), past it each new value allocates once.
func (n *Normalizer) intern(b []byte) string {
	if s, ok := n.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(n.interned) < maxInterned && len(s) <= MaxSourceTypeBytes {
		n.interned[s] = s
	}
	return s
}

func (n *Normalizer) newNode(key []byte, kind uint8, gen int32) int32 {
	var plain bool
	if len(key) > 0 && len(key) == len(n.walkKey) && &key[0] == &n.walkKey[0] {
		plain, n.walkKey = n.walkPlain, nil // used once
	} else {
		plain = plainKey(key)
	}
	// Grown with a zero node and filled in place: a composite literal
	// appended is built on the stack and copied in 16-byte moves, which
	// read back the byte-wide stores just made (a store-forwarding stall
	// on every node of every event).
	n.nodes = append(n.nodes, node{})
	i := len(n.nodes) - 1
	nd := &n.nodes[i]
	nd.key, nd.plain, nd.kind, nd.gen = key, plain, kind, gen
	nd.first, nd.last, nd.next = -1, -1, -1
	return int32(i)
}

func (n *Normalizer) child(parent int32, key []byte) int32 {
	if parent == 0 && n.rootCount <= rootMaxIndex {
		return n.rootLookup(key, hashKey(key))
	}
	return n.scanChild(parent, key)
}

// childH is child with h, hashKey of key, computed ahead (used only when
// parent is the root).
func (n *Normalizer) childH(parent int32, key []byte, h uint64) int32 {
	if parent == 0 && n.rootCount <= rootMaxIndex {
		return n.rootLookup(key, h)
	}
	return n.scanChild(parent, key)
}

// scanChild is child by a scan of parent's members.
func (n *Normalizer) scanChild(parent int32, key []byte) int32 {
	for c := n.nodes[parent].first; c >= 0; c = n.nodes[c].next {
		if n.nodes[c].kind != kRemoved && string(n.nodes[c].key) == string(key) {
			return c
		}
	}
	return -1
}

func (n *Normalizer) rootLookup(key []byte, h uint64) int32 {
	if n.rootBloom[h>>62]&(1<<(h>>56&63)) == 0 {
		return -1
	}
	for i := h & (rootSlots - 1); ; i = (i + 1) & (rootSlots - 1) {
		c := n.rootIdx[i] - 1
		if c < 0 {
			return -1
		}
		if nd := &n.nodes[c]; nd.kind != kRemoved && string(nd.key) == string(key) {
			return c
		}
	}
}

func (n *Normalizer) rootInsert(c int32, h uint64) {
	n.rootCount++
	if n.rootCount > rootMaxIndex {
		return // scanning from now on for this event
	}
	n.rootBloom[h>>62] |= 1 << (h >> 56 & 63)
	for i := h & (rootSlots - 1); ; i = (i + 1) & (rootSlots - 1) {
		if n.rootIdx[i] == 0 {
			n.rootIdx[i] = c + 1
			return
		}
	}
}

// set returns the node for key under parent, creating it or resolving a
// collision: two objects from different sources merge; anything else is
// replaced in place (last wins, position of the first).
func (n *Normalizer) set(parent int32, key []byte, kind uint8, gen int32) int32 {
	var h uint64
	if parent == 0 {
		h = hashKey(key)
	}
	return n.setH(parent, key, h, kind, gen)
}

// setH is set with the key's hash precomputed (needed only at the root).
func (n *Normalizer) setH(parent int32, key []byte, h uint64, kind uint8, gen int32) int32 {
	var existing int32
	if parent == 0 && n.rootCount <= rootMaxIndex {
		existing = n.rootLookup(key, h)
	} else {
		existing = n.child(parent, key)
	}
	if c := existing; c >= 0 {
		nd := &n.nodes[c]
		// Within one input object a repeated key is replaced (last wins).
		// Across sources (a rename, logrouter's own fields, another object)
		// objects merge, and a value where the other needs an object is
		// kept inside it as "value" (a top-level "event" string, as
		// structlog writes its message, under event.dataset; a "host"
		// string next to hostname renamed to host.name): nothing is lost,
		// and the field has one shape.
		// A value renamed there (moved) came from another key: the two are
		// two sources of the field, not a key repeated in one object.
		if nd.gen != gen || gen == 0 || nd.moved {
			switch {
			case kind == kObject && nd.kind == kObject:
				return c
			case kind == kObject && nd.kind != kRemoved:
				n.displace(c)
				return c
			case kind != kObject && nd.kind == kObject:
				return n.setH(c, keyValue, 0, kind, gen)
			}
		}
		if nd.moved && kind != kObject {
			// A renamed value that another source of the field outranks
			// (setRenamed): it goes back under its own key, not lost.
			n.moveBack(c)
			nd = &n.nodes[c]
		}
		*nd = node{key: nd.key, plain: nd.plain, kind: kind, gen: gen, first: -1, last: -1, next: nd.next}
		return c
	}
	return n.addChild(parent, key, h, kind, gen)
}

// addChild appends a new node for key to parent, which has none (h: the
// key's hash at the root).
func (n *Normalizer) addChild(parent int32, key []byte, h uint64, kind uint8, gen int32) int32 {
	c := n.newNode(key, kind, gen)
	p := &n.nodes[parent]
	if p.last >= 0 {
		n.nodes[p.last].next = c
	} else {
		p.first = c
	}
	p.last = c
	if parent == 0 {
		n.rootInsert(c, h)
	}
	return c
}

// renamed is where a renamed scalar came from (see Normalizer.renames).
type renamed struct {
	node, parent int32
	gen          int32
	key          []byte
	src          string // its source path (action.src)
}

// setRenamed sets the scalar a rename (source path src, input object
// parent, key) moves to target (th: hashKey of its first segment), and
// records where it came from; it returns -1, having set nothing, when
// target already holds a value that outranks it: the event's own value of
// the field (never a rename's), or another renamed value whose source path
// sorts first. So the result does not depend on the members' order (key
// order never changes the content hash), and a value that yields is kept
// under its own name (by the caller, or by moveBack when the outranking
// value comes later).
func (n *Normalizer) setRenamed(target [][]byte, th uint64, kind uint8, gen, parent int32, key []byte, src string, v *fastjson.Value) int32 {
	p := int32(0)
	if len(target) > 1 {
		p = n.setH(0, target[0], th, kObject, 0)
		for _, s := range target[1 : len(target)-1] {
			p = n.set(p, s, kObject, 0)
		}
	}
	leaf := target[len(target)-1]
	var h uint64
	var c int32
	if p == 0 {
		h = th // leaf is target[0]
		if n.rootCount <= rootMaxIndex {
			c = n.rootLookup(leaf, h)
		} else {
			c = n.child(0, leaf)
		}
	} else {
		c = n.child(p, leaf)
	}
	if c >= 0 && n.nodes[c].kind == kObject {
		// An object there (the event's own, or made for other renames):
		// the value goes inside it as "value", as setH keeps a value
		// where another source needs an object, whichever comes first,
		// and ranks against a value there as it would at the field.
		p, leaf, h = c, keyValue, 0
		c = n.child(p, leaf)
	}
	scalar := c >= 0 && n.nodes[c].kind != kObject && n.nodes[c].kind != kRemoved
	switch {
	case c < 0:
		c = n.addChild(p, leaf, h, kind, gen) // the usual case: nothing there
	case scalar && n.repeated(c, gen, parent, key):
		// The same key again in one input object: the last wins and the
		// earlier is gone (as for a key not renamed), not moved back.
		n.nodes[c].moved = false
		c = n.setH(p, leaf, h, kind, gen)
	case scalar && n.keeps(c, src, v, key):
		return -1
	default:
		c = n.setH(p, leaf, h, kind, gen)
	}
	n.nodes[c].moved = true
	n.renames = append(n.renames, renamed{}) // filled in place (see newNode)
	r := &n.renames[len(n.renames)-1]
	r.node, r.parent, r.gen, r.key, r.src = c, parent, gen, key, src
	return c
}

// keeps reports whether scalar c keeps its place against a rename from
// source path src whose value is empty (null or "": see yieldsEmpty) or
// not: a value keeps its place against an empty one, and takes an empty
// one's, whatever their sources (an empty top-level UserAgent must not
// keep another source's user agent out of the field); else outranks
// decides.
func (n *Normalizer) keeps(c int32, src string, v *fastjson.Value, key []byte) bool {
	if had, empty := n.emptyAt(c), n.yieldsEmpty(v); had != empty {
		return empty
	}
	return n.outranks(c, src, v, key)
}

// repeated reports whether scalar c was renamed from key of node parent in
// the input object of generation gen: a key repeated in one object. Its
// rename is forgotten (the last of a repeated key wins).
func (n *Normalizer) repeated(c, gen, parent int32, key []byte) bool {
	if !n.nodes[c].moved {
		return false
	}
	for i := range n.renames {
		if r := &n.renames[i]; r.node == c {
			if r.gen == gen && r.parent == parent && string(r.key) == string(key) {
				r.node = -1
				return true
			}
			return false
		}
	}
	return false
}

// yieldsEmpty reports whether v is null or "" and empty values leave the
// output (not normalize.keep_empty): such a value yields its field to
// another source's (keeps, setMissing).
func (n *Normalizer) yieldsEmpty(v *fastjson.Value) bool {
	return !n.c.cfg.KeepEmpty && emptyScalar(v)
}

// emptyAt reports whether node c holds a value that yields (yieldsEmpty).
func (n *Normalizer) emptyAt(c int32) bool {
	nd := &n.nodes[c]
	return nd.kind == kValue && nd.val != nil && n.yieldsEmpty(nd.val)
}

// outranks reports whether scalar c keeps its place against a rename of v
// from source path src (see setRenamed). Two sources of one path (a
// literal dotted key "user.name" beside "user":{"name"}, a lifted member
// beside the object's own) rank by their values' JSON text, so that
// neither order of the members changes which one wins (nor the content
// hash), and equal values by their keys as written (the nested "name"
// before the literal "user.name"), so that the one that stays under its
// own name is the same whatever the order; a key repeated in one object
// never gets here (repeated). key is v's key as written.
func (n *Normalizer) outranks(c int32, src string, v *fastjson.Value, key []byte) bool {
	if !n.nodes[c].moved {
		return true
	}
	for i := range n.renames {
		if r := &n.renames[i]; r.node == c {
			if r.src != src || n.nodes[c].val == nil {
				return r.src < src
			}
			n.scratch = n.nodes[c].val.MarshalTo(n.scratch[:0])
			had := len(n.scratch)
			n.scratch = v.MarshalTo(n.scratch)
			if a, b := string(n.scratch[:had]), string(n.scratch[had:]); a != b {
				return a < b
			}
			return string(r.key) <= string(key)
		}
	}
	return false
}

// moveBack puts renamed scalar c back under its source key (see yields):
// another value of its target outranks it.
func (n *Normalizer) moveBack(c int32) {
	for i := range n.renames {
		r := &n.renames[i]
		if r.node != c {
			continue
		}
		old := n.nodes[c]
		r.node = -1
		h := uint64(0)
		if r.parent == 0 {
			h = hashKey(r.key)
		}
		v := n.setH(r.parent, r.key, h, old.kind, r.gen)
		n.nodes[v].val, n.nodes[v].data, n.nodes[v].skip = old.val, old.data, old.skip
		return
	}
}

// displace turns node c, a value, into an object holding that value as
// "value" (see setH).
func (n *Normalizer) displace(c int32) {
	old := n.nodes[c]
	n.nodes[c] = node{key: old.key, plain: old.plain, kind: kObject, gen: 0, first: -1, last: -1, next: old.next}
	v := n.setH(c, keyValue, 0, old.kind, old.gen)
	n.nodes[v].val, n.nodes[v].data, n.nodes[v].skip = old.val, old.data, old.skip
	if old.moved {
		// A renamed value: its rename follows it (outranks, moveBack).
		n.nodes[v].moved = true
		for i := range n.renames {
			if n.renames[i].node == c {
				n.renames[i].node = v
			}
		}
	}
}

// setPath walks/creates objects along segs and sets the leaf.
func (n *Normalizer) setPath(segs [][]byte, kind uint8, gen int32) int32 {
	return n.setPathH(segs, hashKey(segs[0]), kind, gen)
}

// setPathH is setPath with h, hashKey of segs[0] (a root key), computed
// once ahead: for the paths of renames and of logrouter's own fields.
func (n *Normalizer) setPathH(segs [][]byte, h uint64, kind uint8, gen int32) int32 {
	if len(segs) == 1 {
		return n.setH(0, segs[0], h, kind, gen)
	}
	parent := n.setH(0, segs[0], h, kObject, 0)
	for _, s := range segs[1 : len(segs)-1] {
		parent = n.set(parent, s, kObject, 0)
	}
	return n.set(parent, segs[len(segs)-1], kind, gen)
}

// setMissing sets a synthesized leaf at segs only if nothing is there and no
// scalar blocks the path; it reports whether it did.
func (n *Normalizer) setMissing(segs [][]byte) int32 { return n.setAbsent(segs, false) }

// setMissingH is setMissing with h, hashKey of segs[0], computed ahead.
func (n *Normalizer) setMissingH(segs [][]byte, h uint64) int32 {
	return n.setLeafH(segs, h, false, false)
}

// setCopied is setMissing for a profile's copy: a value there that yields
// (null or "", see yieldsEmpty) is no value, and the copy takes its place
// (a renamed one goes back under its own key). A Microsoft 365 record's
// empty top-level UserAgent must not keep its ExtendedProperties' user
// agent out of user_agent.original.
func (n *Normalizer) setCopied(segs [][]byte) int32 {
	return n.setLeafH(segs, hashKey(segs[0]), false, true)
}

// setAbsent is setMissing; with displace, a value on the path is kept
// inside the object the path needs as "value" (see setH) rather than
// blocking it: for the fields logrouter always writes (event.dataset,
// event.ingested), not for defaults such as host.name, where the event's
// own value wins.
func (n *Normalizer) setAbsent(segs [][]byte, displace bool) int32 {
	return n.setLeafH(segs, hashKey(segs[0]), displace, false)
}

// setLeafH is setAbsent, h being hashKey of segs[0] (a root key, looked
// up and set with one hash); with overEmpty, a value at the leaf that
// yields (emptyAt) does not block it (setCopied).
func (n *Normalizer) setLeafH(segs [][]byte, h0 uint64, displace, overEmpty bool) int32 {
	parent := int32(0)
	h := h0 // the hash of the key looked up at the root; 0 below it
	for _, s := range segs[:len(segs)-1] {
		c := n.childH(parent, s, h)
		switch {
		case c < 0:
			c = n.setH(parent, s, h, kObject, 0)
		case n.nodes[c].kind != kObject && !displace:
			return -1
		case n.nodes[c].kind != kObject:
			n.displace(c)
		}
		parent, h = c, 0
	}
	leaf := segs[len(segs)-1]
	if c := n.childH(parent, leaf, h); c >= 0 && !(overEmpty && n.emptyAt(c)) {
		return -1
	}
	return n.setH(parent, leaf, h, kStr, 0)
}

var (
	segTimestamp = [][]byte{[]byte("@timestamp")}
	segDataset   = splitPath("event.dataset")
	segIngested  = splitPath("event.ingested")
	segHost      = splitPath("host.name")
	segLabels    = [][]byte{[]byte("labels")}
	segMessage   = []byte("message")
	keyLogrouter = []byte("logrouter")
	keyValue     = []byte("value") // a value displaced by an object (setH)
	// keyTimestampOriginal keeps an own @timestamp that is not the event's
	// time (see Build).
	keyTimestampOriginal = []byte("@timestamp_original")
	keyTimestamp         = []byte("timestamp")
	keyParseStatus       = []byte("parse_status")
	keyPayload           = []byte("payload")
	keyInput             = []byte("input")
	keyProtocol          = []byte("protocol")
	keyPeer              = []byte("peer")
	keyToken             = []byte("token")
	keyIndex             = []byte("index")
	keySource            = []byte("source")
	keySourcetype        = []byte("sourcetype")
	keySender            = []byte("sender")
)

// hashKey of the root keys logrouter looks up and sets in every event,
// computed once.
var (
	hashTimestampField = hashKey(segTimestamp[0])
	hashEvent          = hashKey(segDataset[0]) // event.dataset, event.ingested
	hashHost           = hashKey(segHost[0])
	hashLogrouter      = hashKey(keyLogrouter)
	hashTimestamp      = hashKey(keyTimestamp)
)

// buildTree resets the tree and walks the input with prof's renames and
// drops (or the global ones); it returns the @timestamp node.
func (n *Normalizer) buildTree(obj *fastjson.Value, text []byte, m *EventMeta, prof *profile) (int32, error) {
	n.nodes = n.nodes[:0]
	if n.rootCount > 0 {
		clear(n.rootIdx[:])
		n.rootBloom = [4]uint64{}
		n.rootCount = 0
	}
	n.path = n.path[:0]
	n.renames = n.renames[:0]
	n.fields = 0
	n.edgeMeta, n.edgeEvent = 0, -1
	if m.Normalized {
		n.edgeMeta = 1
	}
	n.err = nil
	n.gen = 0
	n.act, n.actOn, n.noneWords = &n.c.actions, n.c.pathRules, nil
	if prof != nil {
		n.act, n.actOn, n.noneWords = &prof.actions, prof.actionsOn, prof.noneWords
	}
	root := n.newNode(nil, kObject, 0)
	ts := n.setH(root, segTimestamp[0], hashTimestampField, kLit, 0) // first in the output
	switch {
	case obj != nil:
		n.headGen = 0
		for i, v := range [...]*fastjson.Value{m.Head, obj, m.Tail} {
			if v == nil {
				continue
			}
			if i == 0 {
				n.headGen = n.gen + 1 // what walk gives the head's members
			}
			o, err := v.Object()
			if err != nil {
				return 0, ErrNotObject
			}
			if n.walk(root, o, true); n.err != nil {
				return 0, n.err
			}
		}
	case len(text) > 0:
		c := n.set(root, segMessage, kStr, 0)
		n.nodes[c].data = text
	default:
		return 0, errNoEventContent
	}
	return ts, nil
}

// Build prepares one event from obj (a parsed JSON value that must be an
// object) or, when obj is nil, from text (which becomes the "message" field).
// bm is the batch's metadata; m the event's envelope (may be nil). After Build
// returns nil, Lookup and AppendTo may be called until the next Build.
func (n *Normalizer) Build(obj *fastjson.Value, text []byte, bm *pipeline.Meta, m *EventMeta) error {
	n.time = 0
	n.timeNode = -1
	n.parsedTS, n.hdrTS = -1, -1
	n.tpObj, n.tpReuse = nil, false
	n.sourceType = nil
	n.walkKey = nil // an earlier event's key: its bytes may be reused
	n.meta = bm
	n.sender = nil
	n.dropOwnLR = m == nil || !m.KeepOwnLogrouter
	n.lits = n.lits[:0]
	n.unesc = n.unesc[:0]
	if m == nil {
		m = &noMeta
	}
	n.sender = m.Sender
	// Source type: the envelope's, else the event's own event.dataset, else
	// the input's default. The profile is the one that source type selects;
	// an event with none of them (or one that selects no profile) is matched
	// against the profiles' detect rules, which then name the source type.
	//
	// The walk applies the profile's renames and drops, so it must know the
	// profile first. It is walked with the envelope's or, failing that, the
	// input default's profile (one pass: HEC sourcetype, a Kafka topic's or a
	// listener's source type); it is walked again only when the event's own
	// event.dataset selects another profile, or detection finds one.
	st, defST := m.SourceType, m.DefaultSourceType
	if genericSourceType(st) {
		// Splunk's catch-all JSON source types ("_json"...) say nothing
		// of the source: the event's own event.dataset and detection
		// decide, the name stays the default.
		if len(defST) == 0 {
			defST = st
		}
		st = nil
	}
	// Another name of a profile's source (Splunk's aws:cloudtrail for
	// aws.cloudtrail) is that name from here on; the sender's is kept.
	var stAs, defAs []byte
	if c := n.c.profiles.canonical(st); c != nil {
		stAs, st = st, c
	}
	if c := n.c.profiles.canonical(defST); c != nil {
		defAs, defST = defST, c
	}
	explicit := len(st) > 0
	prof := n.c.profiles.lookup(st)
	if !explicit {
		prof = n.c.profiles.lookup(defST)
	}
	if m.Normalized {
		prof = nil
	}
	ts, err := n.buildTree(obj, text, m, prof)
	if err != nil {
		return err
	}
	if m.Normalized {
		if c := n.findPath(&pathDataset); c >= 0 && len(st) == 0 {
			st = n.stringOf(c)
		}
	} else if !explicit && n.c.profiles != nil {
		want := prof
		if c := n.findPath(&pathDataset); c >= 0 {
			// An empty, null or non-string one says nothing: the input's
			// default stands (and replaces it below).
			if own := n.stringOf(c); len(own) > 0 {
				st = own
				want = n.c.profiles.lookup(st)
			}
		}
		if want == nil && (len(st) > 0 || prof == nil) {
			// Detection runs on the tree as the global table left it.
			if prof != nil {
				if _, err = n.buildTree(obj, text, m, nil); err != nil {
					return err
				}
				prof, ts = nil, 1
			}
			if want = n.detectProfile(); want != nil && len(st) == 0 {
				st = n.detectedDataset(want)
			}
		}
		if want != prof {
			if _, err = n.buildTree(obj, text, m, want); err != nil {
				return err
			}
			prof, ts = want, 1
		}
	}
	parsed := false // the profile's parse ran (before its variants' detection)
	if prof != nil && len(prof.variants) > 0 && !m.Normalized {
		// Selected by its source type (or its own event.dataset), the
		// profile still defers to a variant whose detect holds (the
		// Windows Security events by id): checked on the tree as the
		// profile walked it, so a variant's detect names the fields both
		// as they arrive and as the profile renames them, and as its
		// text parse adds them (a Windows event sent as XML).
		if p := prof.parse; p != nil && p.syslog {
			n.tzDef = n.eventZone()
			n.parseText(p)
			parsed = true
		}
		if v := n.firstDetected(prof.variants); v != nil {
			baseParse := prof.parse
			if _, err = n.buildTree(obj, text, m, v); err != nil {
				return err
			}
			prof, ts = v, 1
			// The variant parses as its base did (it inherits the
			// parse): the same object, walked again.
			n.tpReuse = parsed && v.parse == baseParse
			parsed, n.parsedTS, n.hdrTS = false, -1, -1
		}
	}
	if len(st) == 0 {
		st, stAs = defST, defAs
	}
	if len(st) == 0 {
		st = unknownSourceType
	}
	// event.timezone, for times without a zone: in a line parseText
	// parses, and in the time fields below.
	n.tzDef = n.eventZone()
	if prof != nil {
		n.applyProfile(prof, parsed)
	}

	// @timestamp: envelope, then the profile's and the configured fields,
	// then ingest time.
	// (A found time may be 0: 1970-01-01T00:00:00Z, a reset clock.)
	n.time = m.Time
	found := n.time != 0
	if !found && prof != nil {
		n.time, found = n.profileTime(prof, bm.IngestTime)
	}
	if !found {
		n.time, found = n.findTime(bm.IngestTime)
	}
	if !found && m.DefaultTime != 0 {
		n.time, found = m.DefaultTime, true
	}
	if !found {
		n.time = bm.IngestTime
	}
	if n.parsedTS < 0 && !n.dropOwnLR {
		if n.parsedTS = n.syslogTimestamp(); n.parsedTS < 0 {
			n.parsedTS = n.headerTime() // the header's around a JSON payload (AppendJSON's form)
		}
	}
	if n.parsedTS >= 0 && n.parsedTS != n.timeNode && !n.c.cfg.KeepTimestampField {
		// The syslog parser's (parseText's, or the syslog input's): the
		// same time again, or one that lost to the device's own.
		n.nodes[n.parsedTS].kind = kRemoved
	}
	n.tsBuf = append(timeparse.AppendRFC3339(append(n.tsBuf[:0], '"'), n.time), '"')
	// The input's own @timestamp, if any, replaced this node in place; put the
	// canonical value back (same position: first). An own @timestamp that is
	// not where the time came from (it did not parse, or the envelope's time
	// won) is kept as @timestamp_original: replaced, it would leave no trace
	// of the event's own time.
	if tn := n.nodes[ts]; tn.gen != 0 && tn.kind != kRemoved && tn.kind != kObject && (!found || n.timeNode != ts) {
		c := n.set(0, keyTimestampOriginal, tn.kind, tn.gen)
		n.nodes[c].val, n.nodes[c].data = tn.val, tn.data
	}
	tn := &n.nodes[ts]
	*tn = node{key: segTimestamp[0], plain: true, kind: kLit, data: n.tsBuf, first: -1, last: -1, next: tn.next}

	// event.dataset is the source type.
	st = n.boundSourceType(st)
	n.sourceType = st
	if c := n.findPath(&pathDataset); explicit || (c >= 0 && len(n.stringOf(c)) == 0) {
		// The envelope's wins; so does any source type over an empty,
		// null or non-string own event.dataset.
		c = n.setPathH(segDataset, hashEvent, kStr, 0)
		n.nodes[c].data = st
	} else if c := n.setLeafH(segDataset, hashEvent, true, false); c >= 0 {
		n.nodes[c].data = st
	}

	if c := n.setLeafH(segIngested, hashEvent, true, false); c >= 0 {
		n.nodes[c].kind = kLit
		n.nodes[c].data = n.ingested(bm.IngestTime)
		n.nodes[c].skip = true
	} else if c := n.findPath(&pathIngested); c >= 0 {
		// The event's own (a logrouter edge's, through Kafka): ingest
		// metadata all the same, so not in the content hash, or the
		// same event would get another _id and escape dedup by its path.
		n.nodes[c].skip = true
	}
	if len(m.Host) > 0 {
		if c := n.setMissingH(segHost, hashHost); c >= 0 {
			n.nodes[c].data = m.Host
		}
	}
	if m.Fields != nil {
		if o, err := m.Fields.Object(); err == nil && o.Len() > 0 {
			c := n.setPath(segLabels, kObject, 0)
			// The event's own labels win: an indexed field never replaces
			// one (Splunk keeps both; a replaced value would be lost).
			n.keepExisting = true
			n.walk(c, o, false)
			n.keepExisting = false
			if n.err != nil {
				return n.err
			}
		}
	}

	lr := n.setH(0, keyLogrouter, hashLogrouter, kObject, 0) // ingest metadata always wins (node 0 is the root)
	n.nodes[lr].skip = true
	if u := n.child(lr, keyUnconverted); u >= 0 && n.nodes[u].kind == kObject {
		// Values set aside (here, or by the edge whose output this is):
		// the event's own content, hashed as the edge hashed them.
		n.nodes[u].hashed = true
	}
	if m.Normalized && n.child(lr, keyInput) >= 0 {
		// An edge's event: where it first came in (input, protocol, the
		// shipper's address, token) is what matters, not the Kafka hop.
		n.metaAbsent(lr, keyInput, s2b(bm.Input))
		n.metaAbsent(lr, keyProtocol, s2b(bm.Protocol))
		n.metaAbsent(lr, keyPeer, s2b(bm.Peer))
		n.metaAbsent(lr, keyToken, s2b(bm.Token))
	} else {
		n.metaStr(lr, keyInput, s2b(bm.Input))
		n.metaStr(lr, keyProtocol, s2b(bm.Protocol))
		n.metaStr(lr, keyPeer, s2b(bm.Peer))
		n.metaStr(lr, keyToken, s2b(bm.Token))
	}
	if len(n.sender) > 0 {
		// A hostless message's sender, in its hash: written so that a
		// gateway reading this edge's output hashes it again (the edge's
		// logrouter.peer is not it for every input, and nothing else
		// says the message was hostless).
		n.metaStr(lr, keySender, n.sender)
	} else if m.Normalized {
		if c := n.child(lr, keySender); c >= 0 {
			n.sender = n.stringOf(c) // the edge's: hashed as the edge hashed it
		}
	}
	n.metaStr(lr, keyIndex, m.Index)
	n.metaStr(lr, keySource, m.Source)
	if len(stAs) > 0 {
		n.metaStr(lr, keySourcetype, stAs)
	}
	return nil
}

// genericSourceType reports whether st is one of Splunk's catch-all
// source types (a sender's default or a transport's, not the source's name).
func genericSourceType(st []byte) bool {
	switch string(st) {
	case "_json", "json", "json_no_timestamp", "httpevent", "_jsonarray",
		// Splunk add-ons' names for a transport, not a source: CloudWatch
		// Logs and Firehose (Add-on for AWS, Firehose add-on), Event Hubs
		// (Microsoft Cloud Services add-on).
		"aws:cloudwatchlogs", "aws:firehose:json", "aws:firehose:text", "mscs:azure:eventhub":
		return true
	}
	return false
}

// detectedDataset returns the source type of an event that p detected:
// p's name, or the name its detect.dataset makes from the event (valid until
// the next Build).
func (n *Normalizer) detectedDataset(p *profile) []byte {
	if p.dsConst != "" {
		return s2b(p.dsConst)
	}
	if p.dsField == nil {
		return s2b(p.name)
	}
	c := n.findPath(p.dsField)
	if c < 0 {
		return s2b(p.name)
	}
	v := n.stringOf(c)
	if !datasetName(b2s(v), false) {
		return s2b(p.name)
	}
	n.dsBuf = append(append(append(n.dsBuf[:0], p.dsPrefix...), v...), p.dsSuffix...)
	return n.dsBuf
}

var (
	pathDataset       = CompilePath("event.dataset")
	pathIngested      = CompilePath("event.ingested")
	pathTimezone      = CompilePath("event.timezone")
	noMeta            EventMeta
	unknownSourceType = []byte("unknown")
)

// metaAbsent is metaStr for a member the event does not have yet.
func (n *Normalizer) metaAbsent(parent int32, key, val []byte) {
	if n.child(parent, key) < 0 {
		n.metaStr(parent, key, val)
	}
}

func (n *Normalizer) metaStr(parent int32, key, val []byte) {
	if len(val) == 0 {
		return
	}
	c := n.set(parent, key, kStr, 0)
	n.nodes[c].data = val
}

func (n *Normalizer) ingested(ns int64) []byte {
	if ns != n.ingestNs || n.ingestBuf == nil {
		n.ingestNs = ns
		n.ingestBuf = append(timeparse.AppendRFC3339(append(n.ingestBuf[:0], '"'), ns), '"')
	}
	return n.ingestBuf
}

// isLogrouterKey reports whether a root key names logrouter's metadata:
// "logrouter", or a dotted path into it ("logrouter.token"), which lookups
// and OpenSearch read as the same field.
func isLogrouterKey(k []byte) bool {
	const lr = "logrouter"
	return len(k) >= len(lr) && string(k[:len(lr)]) == lr && (len(k) == len(lr) || k[len(lr)] == '.')
}

// walk adds the members of o under parent. rules enables rename/drop lookups
// (off inside renamed subtrees and labels, and below an object no rename or
// drop reaches into).
func (n *Normalizer) walk(parent int32, o *fastjson.Object, rules bool) {
	n.gen++
	gen := n.gen
	base := len(n.path)
	check := rules && n.actOn
	var wild []wildSegment
	if check && base > 0 {
		if a := n.act.get(n.path, hashKey(n.path)); a != nil {
			check, wild = a.interior, a.wild
		} else {
			check = false
		}
	}
	o.Visit(func(key []byte, v *fastjson.Value) {
		if n.err != nil {
			return
		}
		if n.edgeMeta == 0 || !n.ownMeta(parent, key) {
			n.fields++
			if n.fields > n.c.maxFields && (n.edgeMeta == 0 || n.fields > 2*n.c.maxFields) {
				// An edge's output (a gateway reading it) has room for
				// twice the bound: the edge counted the input's members,
				// and its renames added the objects they write into
				// (source, observer.ingress...) and its profile fields.
				n.err = ErrTooManyFields
				return
			}
		}
		if len(key) == 0 && parent == n.liftParent {
			key = n.paramKey() // an unnamed member of a lifted list
		}
		plain, dot := plainKeyDot(key)
		if !plain && !utf8.Valid(key) {
			// Written with each invalid byte as U+FFFD: two keys that
			// differ only there would come out alike, twice in one object
			// (which OpenSearch refuses). Resolve them as the same key.
			// Rare: the copy is made only for such keys.
			key = validKey(key)
		}
		key = searchableKeyDot(key, parent == 0, dot) // a name OpenSearch refuses, rewritten (keys.go)
		n.walkKey, n.walkPlain = key, plain
		if n.keepExisting {
			if c := n.child(parent, key); c >= 0 && n.nodes[c].kind != kRemoved {
				n.keepBoth(c, v)
				return
			}
		}
		// Below an object whose path begins no rename or drop (not
		// interior: see markInterior) none applies: its members are
		// walked without their paths.
		descend := check
		isObj := v.Type() == fastjson.TypeObject
		kind := kValue
		if isObj {
			kind = kObject
		}
		var c int32 = -1
		var wildKey []byte // the key a wildcard segment stands for
		var h uint64       // key hash at the root, where the path is the key
		if parent == 0 {
			if n.dropOwnLR && isLogrouterKey(key) {
				return
			}
			h = hashKey(key)
		}
		if check {
			n.path = n.path[:base]
			if base > 0 {
				n.path = append(n.path, '.')
			}
			n.path = append(n.path, key...)
			for i := range wild {
				if bytes.HasPrefix(key, wild[i].prefix) {
					n.path = append(n.path[:len(n.path)-len(key)], wild[i].seg...)
					wildKey = key
					break
				}
			}
			ph := h
			if base > 0 {
				ph = hashKey(n.path)
			}
			if a := n.act.get(n.path, ph); a != nil {
				if a.drop {
					return
				}
				if a.lift && n.lift(parent, v, base, descend) {
					return
				}
				if a.target != nil && !isObj && len(n.noneWords) > 0 && n.noneWord(v) {
					return // the source's word for none (ProfileSpec.NoneValues): no value to rank or keep
				}
				if a.target != nil && !(isObj && a.within) {
					if n.underlay && n.takenAt(a.target, isObj) {
						return
					}
					// Children keep their input paths for lookups, so a
					// profile can move an object and map some of its
					// fields elsewhere in the same pass.
					if isObj {
						c = n.setPathH(a.target, a.targetHash, kind, gen)
					} else {
						c = n.setRenamed(a.target, a.targetHash, kind, gen, parent, key, n.rankSource(a.src), v)
					}
				}
			}
		}
		if n.underlay && c < 0 {
			// Fields parsed from the event's text (parseText): the
			// event's own win, objects merge.
			if t := n.child(parent, key); t >= 0 && n.nodes[t].kind != kRemoved && (n.nodes[t].kind != kObject || !isObj) {
				return
			}
		}
		if isObj {
			if c < 0 {
				c = n.setH(parent, key, h, kObject, gen)
			}
			n.nodes[c].val = v // the input object, for rules that read it whole
			obj, _ := v.Object()
			if n.edgeMeta != 0 && parent == 0 {
				switch string(key) {
				case "logrouter":
					// An edge's metadata, all of it uncounted.
					n.edgeMeta++
					n.walk(c, obj, descend)
					n.edgeMeta--
					n.path = n.path[:base]
					return
				case "event":
					n.edgeEvent = c
				}
			}
			if wildKey != nil {
				// Renames below rank by the member's own key too (see
				// rankSource).
				prev := n.wildMember
				n.wildMember = wildKey
				n.walk(c, obj, descend)
				n.wildMember = prev
			} else {
				n.walk(c, obj, descend)
			}
			n.path = n.path[:base]
			return
		}
		if c < 0 {
			if n.yieldsEmpty(v) {
				// The event's own empty value where a value was renamed
				// before it: it yields (see keeps), as when it comes first.
				if t := n.child(parent, key); t >= 0 && n.nodes[t].moved && n.nodes[t].kind != kObject && n.nodes[t].kind != kRemoved && !n.emptyAt(t) {
					return
				}
			}
			c = n.setH(parent, key, h, kind, gen)
		}
		n.nodes[c].val = v
	})
	n.path = n.path[:base]
	n.walkKey = nil
}

// emptyScalar reports whether v is null or the empty string.
func emptyScalar(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return len(b) == 0
	}
	return false
}

// noneWord reports whether v is a string that is one of n.noneWords.
func (n *Normalizer) noneWord(v *fastjson.Value) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	b, _ := v.StringBytes()
	return n.noneText(b)
}

// noneText reports whether b is one of the profile's words for none.
func (n *Normalizer) noneText(b []byte) bool {
	for _, w := range n.noneWords {
		if string(b) == string(w) {
			return true
		}
	}
	return false
}

// rankSource returns the source path a rename ranks by (see outranks):
// src, and below a member a wildcard segment stands for, src with the
// member's own key, so that two members matching one wildcard that both
// carry a renamed field rank by their keys, not by their order in the
// event (which must not change the output or the content hash).
func (n *Normalizer) rankSource(src string) string {
	if n.wildMember == nil {
		return src
	}
	start := len(n.lits)
	n.lits = append(append(append(n.lits, src...), 0), n.wildMember...)
	return b2s(n.lits[start:len(n.lits):len(n.lits)])
}

// ownMeta reports whether member key of parent is one that a logrouter
// edge wrote into its output (logrouter.*, @timestamp, event.dataset,
// event.ingested): at a gateway (EventMeta.Normalized) max_fields bounds
// the event's own fields, as it did at the edge, which counted them before
// it added these.
func (n *Normalizer) ownMeta(parent int32, key []byte) bool {
	switch {
	case n.edgeMeta > 1:
		return true // inside logrouter
	case parent == 0:
		return string(key) == "@timestamp" || string(key) == "logrouter"
	case parent == n.edgeEvent:
		return string(key) == "dataset" || string(key) == "ingested"
	}
	return false
}

// lift walks the members of list v's objects into parent, whose path is
// n.path[:base] (ProfileSpec.Lift). It reports false, having done
// nothing, when v is not a list of objects.
func (n *Normalizer) lift(parent int32, v *fastjson.Value, base int, rules bool) bool {
	arr, err := v.Array()
	if err != nil || len(arr) == 0 || parent == n.liftParent {
		// Not a list, or one inside an element of a list lifted into
		// the same object: its positions would name the same paramN.
		return false
	}
	for _, e := range arr {
		if e.Type() != fastjson.TypeObject {
			return false
		}
	}
	savedParent, savedPos := n.liftParent, n.liftPos
	for i, e := range arr {
		o, _ := e.Object()
		n.path = n.path[:base]
		n.liftParent, n.liftPos = parent, i+1
		if n.walk(parent, o, rules); n.err != nil {
			break
		}
	}
	n.liftParent, n.liftPos = savedParent, savedPos
	n.path = n.path[:base]
	return true
}

// paramKey names an unnamed member of a lifted list by its position in
// the list, param1 for the first, as Winlogbeat names unnamed event data
// (its position among all the event's data).
func (n *Normalizer) paramKey() []byte {
	start := len(n.lits)
	n.lits = strconv.AppendInt(append(n.lits, "param"...), int64(n.liftPos), 10)
	return n.lits[start:len(n.lits):len(n.lits)]
}

// takenAt reports whether the event has a field at segs that a field parsed
// from its text, an object when isObj, must not replace (parseText: the
// event's own win): a value there or on the way, or an object where the
// parsed field is a value. Objects merge.
func (n *Normalizer) takenAt(segs [][]byte, isObj bool) bool {
	c := int32(0)
	for i, s := range segs {
		if c = n.child(c, s); c < 0 || n.nodes[c].kind == kRemoved {
			return false
		}
		if i < len(segs)-1 && n.nodes[c].kind != kObject {
			return true
		}
	}
	return n.nodes[c].kind != kObject || !isObj
}

// keepBoth makes node c, a scalar the event has, the array of its value and
// v's (a scalar HEC indexed field of the same name under labels): Splunk
// keeps both, as a multi-value field. The same value is kept once; an
// object or array on either side keeps the event's alone. Rare (a name
// clash between an event's labels and its envelope's fields): it allocates.
func (n *Normalizer) keepBoth(c int32, v *fastjson.Value) {
	if composite(v) || v.Type() == fastjson.TypeNull {
		return
	}
	nd := &n.nodes[c]
	var cur []byte
	switch {
	case nd.kind == kStr:
		cur = AppendString(nil, nd.data)
	case nd.kind == kLit && len(nd.data) > 0 && nd.data[0] != '[':
		cur = nd.data
	case nd.kind == kValue && !composite(nd.val) && nd.val.Type() != fastjson.TypeNull:
		cur, _, _ = n.writeValue(nil, nd.val, 0)
	default:
		return
	}
	add, _, _ := n.writeValue(nil, v, 0)
	if bytes.Equal(cur, add) {
		return
	}
	both := make([]byte, 0, len(cur)+len(add)+3)
	both = append(append(append(append(append(both, '['), cur...), ','), add...), ']')
	*nd = node{key: nd.key, plain: nd.plain, kind: kLit, gen: nd.gen, data: both, first: -1, last: -1, next: nd.next}
}

// findPath returns the node at p, or -1. At the root it uses the index: the
// whole path as a literal key first, then each dotted prefix, descending.
func (n *Normalizer) findPath(p *Path) int32 {
	wide := n.rootCount > rootMaxIndex
	if !wide && p.mask[0]&n.rootBloom[0]|p.mask[1]&n.rootBloom[1]|p.mask[2]&n.rootBloom[2]|p.mask[3]&n.rootBloom[3] == 0 {
		return -1 // no candidate root key is in the event
	}
	for i, cut := range p.cuts {
		// The root's candidates longest first, indexed or not, so that
		// the answer does not depend on how wide the event is.
		var c int32
		if wide {
			c = n.rootScan(p.s[:cut])
		} else {
			c = n.rootLookup(s2b(p.s[:cut]), p.hashes[i])
		}
		if c < 0 {
			continue
		}
		if cut == len(p.s) {
			return c
		}
		if n.nodes[c].kind == kObject {
			if r := n.find(c, p.s[cut+1:]); r >= 0 {
				return r
			}
		}
	}
	return -1
}

// find returns the node at path (dot-separated; keys containing dots match
// too) below parent, or -1. As findPath at the root: the whole path as a
// literal key first, then each dotted prefix, longest first, whatever the
// members' order ({"id":{"orig_h":..},"id.orig_h":..} reads id.orig_h).
func (n *Normalizer) find(parent int32, path string) int32 {
	if c := n.member(parent, path); c >= 0 {
		return c
	}
	for cut := len(path) - 1; cut > 0; cut-- {
		if path[cut] != '.' {
			continue
		}
		if c := n.member(parent, path[:cut]); c >= 0 && n.nodes[c].kind == kObject {
			if r := n.find(c, path[cut+1:]); r >= 0 {
				return r
			}
		}
	}
	return -1
}

// member returns parent's member named key, or -1.
func (n *Normalizer) member(parent int32, key string) int32 {
	for c := n.nodes[parent].first; c >= 0; c = n.nodes[c].next {
		if nd := &n.nodes[c]; nd.kind != kRemoved && len(nd.key) == len(key) && string(nd.key) == key {
			return c
		}
	}
	return -1
}

// rootScan returns the root member named key, or -1: findPath's lookup
// once the root is too wide to be indexed.
func (n *Normalizer) rootScan(key string) int32 {
	for c := n.nodes[0].first; c >= 0; c = n.nodes[c].next {
		if nd := &n.nodes[c]; nd.kind != kRemoved && len(nd.key) == len(key) && string(nd.key) == key {
			return c
		}
	}
	return -1
}

// validKey returns key with each byte that is not valid UTF-8 replaced by
// U+FFFD, as AppendString writes it.
func validKey(key []byte) []byte {
	out := make([]byte, 0, len(key)+8)
	for i := 0; i < len(key); {
		r, size := utf8.DecodeRune(key[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, key[i:i+size]...)
		}
		i += size
	}
	return out
}

// stringOf returns the string value of node c, or nil.
func (n *Normalizer) stringOf(c int32) []byte {
	nd := &n.nodes[c]
	switch nd.kind {
	case kStr:
		return nd.data
	case kValue:
		if nd.val.Type() == fastjson.TypeString {
			b, _ := nd.val.StringBytes()
			return b
		}
	}
	return nil
}

// profileTime tries a profile's timestamp fields, then its joined fields.
func (n *Normalizer) profileTime(p *profile, ingest int64) (int64, bool) {
	now := time.Unix(0, ingest)
	for i := range p.ts {
		c := n.findPath(&p.ts[i])
		if c < 0 {
			continue
		}
		if ns, ok := n.parseTimeNode(c, now); ok {
			n.timeNode = c
			if !n.c.cfg.KeepTimestampField {
				n.nodes[c].kind = kRemoved
				for i := range p.join { // the split form of the same time
					if j := n.findPath(&p.join[i]); j >= 0 {
						n.nodes[j].kind = kRemoved
					}
				}
			}
			return ns, true
		}
	}
	if len(p.join) == 0 {
		return 0, false
	}
	n.scratch = n.scratch[:0]
	var found [4]int32
	for i := range p.join {
		c := n.findPath(&p.join[i])
		if c < 0 {
			if i < 2 {
				return 0, false
			}
			continue
		}
		if i < len(found) {
			found[i] = c + 1
		}
		if i > 0 {
			n.scratch = append(n.scratch, ' ')
		}
		n.scratch = append(n.scratch, n.stringOf(c)...)
	}
	ns, ok := timeparse.ParseIn(n.scratch, now, n.tzDef)
	if !ok {
		return 0, false
	}
	if !n.c.cfg.KeepTimestampField {
		for _, c := range found {
			if c > 0 {
				n.nodes[c-1].kind = kRemoved
			}
		}
	}
	return ns, true
}

// syslogTimestamp returns the "timestamp" node the syslog input's parser
// wrote (its header's time, or its payload's date and time), or -1: an
// event with the parser's logrouter.parse_status whose payload was not a
// JSON object (whose own "timestamp" member would replace the header's).
func (n *Normalizer) syslogTimestamp() int32 {
	lr := n.childH(0, keyLogrouter, hashLogrouter)
	if lr < 0 || n.child(lr, keyParseStatus) < 0 {
		return -1
	}
	c := n.childH(0, keyTimestamp, hashTimestamp)
	if pl := n.child(lr, keyPayload); pl >= 0 && string(n.stringOf(pl)) == "json" {
		// A JSON payload's own "timestamp" member stays; the header's
		// (walked from EventMeta.Head, around the payload) is the
		// parser's.
		if c < 0 || n.headGen == 0 || n.nodes[c].gen != n.headGen {
			return -1
		}
	}
	return c
}

// eventZone returns the offset of the event's event.timezone, as Beats
// report the zone of their module's devices (Filebeat's add_locale, a
// module's var.timezone), for times without a zone: a firewall's wall
// clock is read in it, as Elastic's ingest pipelines read it, not as UTC.
// 0 without one, or for a zone name (Europe/Berlin), which is not read.
func (n *Normalizer) eventZone() int64 {
	c := n.findPath(&pathTimezone)
	if c < 0 {
		return 0
	}
	off, _ := timeparse.ParseZone(n.stringOf(c))
	return off
}

func (n *Normalizer) parseTimeNode(c int32, now time.Time) (int64, bool) {
	nd := &n.nodes[c]
	switch nd.kind {
	case kStr:
		return timeparse.ParseIn(nd.data, now, n.tzDef)
	case kValue:
		switch nd.val.Type() {
		case fastjson.TypeString:
			b, _ := nd.val.StringBytes()
			return timeparse.ParseIn(b, now, n.tzDef)
		case fastjson.TypeNumber:
			n.scratch = nd.val.MarshalTo(n.scratch[:0])
			return timeparse.ParseNumber(n.scratch)
		}
	case kLit:
		d := nd.data
		if len(d) >= 2 && d[0] == '"' {
			return timeparse.ParseIn(d[1:len(d)-1], now, n.tzDef)
		}
		return timeparse.ParseNumber(d) // a converted number: 1.3e+09 as well
	}
	return 0, false
}

// headerTime returns the syslog header's "timestamp" node when the message's
// payload is a JSON object (an application's own record, whose time fields
// are the event's), or -1.
func (n *Normalizer) headerTime() int32 {
	if n.hdrTS >= 0 {
		return n.hdrTS // parseText's (applyParsed)
	}
	// The syslog parser writes its header's time as the object's first
	// member (appendHead; the split form's EventMeta.Head walks first too),
	// and only when the payload has no "timestamp" of its own. By position,
	// not by headGen, so that both forms normalize alike
	// (FuzzSplitMatchesAppendJSON). A message without a header (parse
	// status raw) has no header time; one whose header has a time but no
	// PRI, host or app, around a payload that starts with its own
	// "timestamp", reads that member as the header's: it is then tried
	// after the payload's other time fields.
	c := n.nodes[1].next // node 1 is @timestamp, the root's first child
	if c < 0 || string(n.nodes[c].key) != "timestamp" {
		return -1
	}
	lr := n.childH(0, keyLogrouter, hashLogrouter)
	if lr < 0 {
		return -1
	}
	if ps := n.child(lr, keyParseStatus); ps < 0 || string(n.stringOf(ps)) == "raw" {
		return -1 // no header, so no header time: the first member is the payload's
	}
	if pl := n.child(lr, keyPayload); pl < 0 || string(n.stringOf(pl)) != "json" {
		return -1
	}
	return c
}

// headerFirst reports whether o, the syslog parser's AppendJSON object, is
// one of a JSON payload whose "timestamp" is the header's: its first
// member, the status not raw (see headerTime).
func headerFirst(o *fastjson.Object) bool {
	i := 0
	ok := false
	o.Visit(func(k []byte, _ *fastjson.Value) {
		if i == 0 {
			ok = string(k) == "timestamp"
		}
		i++
	})
	if !ok {
		return false
	}
	lr := o.Get("logrouter")
	return lr != nil && string(lr.GetStringBytes("payload")) == "json" && string(lr.GetStringBytes("parse_status")) != "raw"
}

// findTime returns the time of the first of normalize.timestamp_fields that
// parses. The syslog header's time around a JSON payload is tried last: the
// payload's own time (an slog "time" with its offset and milliseconds, a
// zap "ts") is when the event happened, the header's when the line was
// written or relayed (an RFC 3164 header has neither zone nor fraction).
func (n *Normalizer) findTime(ingest int64) (int64, bool) {
	now := time.Unix(0, ingest)
	hdr := n.headerTime()
	for i := range n.c.tsFields {
		c := n.findPath(&n.c.tsFields[i])
		if c < 0 || c == hdr {
			continue
		}
		nd := &n.nodes[c]
		if nd.kind == kRemoved || nd.kind == kObject || (c == 1 && nd.kind != kValue) {
			continue // node 1 is the @timestamp Build writes, unless the event has its own
		}
		// A value of the event's, or one a profile made: a parsed
		// column, a converted number.
		if ns, ok := n.parseTimeNode(c, now); ok {
			if !n.c.cfg.KeepTimestampField && c != 1 { // node 1 is @timestamp, rewritten by Build
				nd.kind = kRemoved
			}
			n.timeNode = c
			return ns, true
		}
	}
	if hdr >= 0 && n.nodes[hdr].kind != kRemoved {
		if ns, ok := n.parseTimeNode(hdr, now); ok {
			if !n.c.cfg.KeepTimestampField {
				n.nodes[hdr].kind = kRemoved
			}
			n.timeNode = hdr
			return ns, true
		}
	}
	return 0, false
}

// Kind is the JSON type of a looked-up field.
type Kind uint8

// Field kinds. Missing means the path does not exist (or was removed).
const (
	Missing Kind = iota
	Null
	String
	Number
	Bool
	Object
	Array
)

// Value is a field as rules see it. Str points into parser or config memory
// and is valid until the next Build.
type Value struct {
	Kind Kind
	Str  []byte
	Num  float64
	Bool bool
	// Raw is the parsed input value behind an Array or Object (for an object,
	// as it arrived, before renames inside it); nil for added metadata.
	Raw *fastjson.Value
}

// Lookup returns the normalized field at path (as rules name it, for example
// "source.ip"). It reflects renames, drops and added metadata. For repeated
// lookups of the same path, compile it once and use LookupPath.
func (n *Normalizer) Lookup(path string) Value {
	p := CompilePath(path)
	return n.LookupPath(&p)
}

// LookupPath is Lookup for a compiled path; it does not allocate.
func (n *Normalizer) LookupPath(p *Path) Value {
	var v Value
	n.LookupInto(p, &v)
	return v
}

// LookupInto is LookupPath writing the result into *dst (every field of it),
// for callers that cache values: a Value returned by value and copied into
// a cache went through the stack in pieces and back in 16-byte loads, a
// store-forwarding stall on every field lookup of every rule.
func (n *Normalizer) LookupInto(p *Path, dst *Value) {
	c := n.findPath(p)
	if c < 0 {
		*dst = Value{}
		return
	}
	n.valueInto(c, dst)
}

// valueOf is the Value of node c (see LookupPath).
func (n *Normalizer) valueOf(c int32) Value {
	var v Value
	n.valueInto(c, &v)
	return v
}

// valueInto sets *dst to the Value of node c.
func (n *Normalizer) valueInto(c int32, dst *Value) {
	*dst = Value{}
	nd := &n.nodes[c]
	switch nd.kind {
	case kObject:
		dst.Kind, dst.Raw = Object, nd.val
	case kStr:
		dst.Kind, dst.Str = String, nd.data
	case kLit:
		*dst = n.literal(nd.data)
	case kValue:
		v := nd.val
		switch v.Type() {
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			dst.Kind, dst.Str = String, b
		case fastjson.TypeNumber:
			dst.Kind, dst.Num = Number, v.GetFloat64()
		case fastjson.TypeTrue:
			dst.Kind, dst.Bool = Bool, true
		case fastjson.TypeFalse:
			dst.Kind = Bool
		case fastjson.TypeNull:
			dst.Kind = Null
		case fastjson.TypeArray:
			dst.Kind, dst.Raw = Array, v
		}
	}
}

// literal is the Value of a JSON literal the normalizer wrote itself (a
// profile's convert or set, @timestamp): a number, true, false or null as
// such, so that rules compare a converted event.severity as a number; a
// string unescaped (into n.unesc when it holds escapes, valid until the
// next Build: the buffer only grows within an event, so earlier results
// stay valid).
func (n *Normalizer) literal(d []byte) Value {
	switch {
	case len(d) >= 2 && d[0] == '"':
		s := d[1 : len(d)-1]
		if bytes.IndexByte(s, '\\') < 0 {
			return Value{Kind: String, Str: s}
		}
		start := len(n.unesc)
		n.unesc = appendUnescaped(n.unesc, s)
		return Value{Kind: String, Str: n.unesc[start:len(n.unesc):len(n.unesc)]}
	case string(d) == "true":
		return Value{Kind: Bool, Bool: true}
	case string(d) == "false":
		return Value{Kind: Bool}
	case string(d) == "null":
		return Value{Kind: Null}
	}
	if f, err := strconv.ParseFloat(b2s(d), 64); err == nil {
		return Value{Kind: Number, Num: f}
	}
	return Value{Kind: String, Str: d}
}

// appendUnescaped appends the JSON string body s (without its quotes, with
// valid escapes as the normalizer writes them) unescaped; an unpaired
// surrogate becomes U+FFFD.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, ok := hex4(s[i+1:])
			if !ok {
				dst = append(dst, '\\', 'u')
				continue
			}
			i += 4
			if utf16.IsSurrogate(r) {
				lo, ok := rune(0), false
				if i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					lo, ok = hex4(s[i+3:])
				}
				if d := utf16.DecodeRune(r, lo); ok && d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // \" \\ \/
			dst = append(dst, s[i])
		}
	}
	return dst
}

// hex4 reads the four hexadecimal digits at the start of b.
func hex4(b []byte) (r rune, ok bool) {
	if len(b) < 4 {
		return 0, false
	}
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// senderHash is the path hash under which EventMeta.Sender is hashed: no
// member's (those mix a key into their parent's).
const senderHash = 0x73656e6465720a01

// SourceType returns the source type resolved by the last Build.
func (n *Normalizer) SourceType() []byte { return n.sourceType }

// AppendTo writes the event built by the last Build to dst as one JSON object
// and returns the extended slice and the event (Raw unset; the caller commits
// it to its batch).
func (n *Normalizer) AppendTo(dst []byte) ([]byte, pipeline.Event) {
	var h uint64
	n.hashedAside = 0
	dst, _, h = n.writeObject(dst, 0, 0, false)
	h += n.hashedAside
	if len(n.sender) > 0 {
		h += n.leafHash(senderHash, n.sender)
	}
	return dst, pipeline.Event{
		Time:       n.time,
		Ingest:     n.meta.IngestTime,
		Hash:       h,
		SourceType: n.intern(n.sourceType),
		Rule:       -1,
	}
}

// Append is Build followed by AppendTo.
func (n *Normalizer) Append(dst []byte, obj *fastjson.Value, text []byte, bm *pipeline.Meta, m *EventMeta) ([]byte, pipeline.Event, error) {
	if err := n.Build(obj, text, bm, m); err != nil {
		return dst, pipeline.Event{}, err
	}
	dst, ev := n.AppendTo(dst)
	return dst, ev, nil
}

func composite(v *fastjson.Value) bool {
	t := v.Type()
	return t == fastjson.TypeObject || t == fastjson.TypeArray
}

// writeObject writes object node idx. It returns the number of members
// written and the sum of their hashes. An object that ends up empty is still
// written as {} here; the caller decides whether to keep it.
func (n *Normalizer) writeObject(dst []byte, idx int32, ph uint64, skip bool) ([]byte, int, uint64) {
	dst = append(dst, '{')
	count := 0
	var sum uint64
	for c := n.nodes[idx].first; c >= 0; c = n.nodes[c].next {
		nd := &n.nodes[c]
		if nd.kind == kRemoved {
			continue
		}
		mark := len(dst)
		if count > 0 {
			dst = append(dst, ',')
		}
		kstart := len(dst)
		dst = appendKey(dst, nd.key, nd.plain)
		dst = append(dst, ':')
		noHash := skip || nd.skip
		var h uint64
		empty := false
		leaf := false // a scalar: hashed below as its written `"key":value`
		switch nd.kind {
		case kObject:
			var k int
			kh := n.keyHash(ph, nd.key)
			dst, k, h = n.writeObject(dst, c, kh, noHash && !nd.hashed)
			if empty = k == 0; empty {
				h = n.leafHash(kh, emptyObject) // kept with keep_empty
			}
		case kStr:
			empty = len(nd.data) == 0
			dst = AppendString(dst, nd.data)
			leaf = true
		case kLit:
			if len(nd.data) > 0 && nd.data[0] == '[' {
				// Two values kept as an array (keepBoth): hashed per
				// element, as the same array read back (a gateway reading
				// an edge's output) is.
				if v, err := n.litP.ParseBytes(nd.data); err == nil {
					dst, empty, h = n.writeValue(dst, v, n.keyHash(ph, nd.key))
					break
				}
			}
			dst = append(dst, nd.data...)
			leaf = true
		case kValue:
			switch v := nd.val; v.Type() {
			case fastjson.TypeString: // the most common member, written here (as writeValue does)
				b, _ := v.StringBytes()
				empty = len(b) == 0
				dst = AppendString(dst, b)
				leaf = true
			case fastjson.TypeObject, fastjson.TypeArray:
				dst, empty, h = n.writeValue(dst, v, n.keyHash(ph, nd.key))
			default:
				dst, empty, _ = n.writeValue(dst, v, 0)
				leaf = true
			}
		}
		if empty && !n.c.cfg.KeepEmpty {
			dst = dst[:mark]
			continue
		}
		count++
		// A scalar is hashed once it is kept, and only when its hash
		// counts (in sum or in hashedAside): ingest metadata's does not
		// (logrouter.*, event.ingested). leafHash, written out: it does
		// not inline, and this is once per member of every event.
		if leaf && (!noHash || nd.hashed) {
			if m := dst[kstart:]; n.keyed {
				h = n.keyedLeaf(ph, m)
			} else {
				h = mix64(ph ^ xxhash.Sum64(m))
			}
		}
		if !noHash {
			sum += h
		} else if nd.hashed {
			n.hashedAside += h // added to the event's hash by AppendTo
		}
	}
	return append(dst, '}'), count, sum
}

// An empty object or array (in an array, or kept by keep_empty) hashes as
// its path and "{}" or "[]": with no members it would add nothing to the
// sum, and {"x":1,"a":[{}]} would hash like {"x":1}. No member hashes these
// bytes (members start with '"', array scalars are never {} or []), and
// events without empty composites hash as before.
var (
	emptyObject = []byte("{}")
	emptyArray  = []byte("[]")
)

// writeValue writes a fastjson value that is not an object node of the tree:
// a scalar, an array, or an object inside an array. For composites it
// returns their hash under path hash ph; for scalars the caller hashes the
// written bytes itself.
func (n *Normalizer) writeValue(dst []byte, v *fastjson.Value, ph uint64) ([]byte, bool, uint64) {
	start := len(dst)
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return AppendString(dst, b), len(b) == 0, 0
	case fastjson.TypeNumber:
		dst = v.MarshalTo(dst)
		if !validNumber(dst[start:]) {
			n.scratch = append(n.scratch[:0], dst[start:]...)
			dst = AppendString(dst[:start], n.scratch)
		}
	case fastjson.TypeTrue:
		dst = append(dst, "true"...)
	case fastjson.TypeFalse:
		dst = append(dst, "false"...)
	case fastjson.TypeNull:
		return append(dst, "null"...), true, 0
	case fastjson.TypeArray:
		arr, _ := v.Array()
		dst = append(dst, '[')
		var sum uint64
		for i, e := range arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			eph := mix64(ph ^ uint64(i+1)*0x9e3779b97f4a7c15)
			if composite(e) {
				var h uint64
				dst, _, h = n.writeValue(dst, e, eph)
				sum += h
			} else {
				es := len(dst)
				dst, _, _ = n.writeValue(dst, e, 0)
				sum += n.leafHash(eph, dst[es:])
			}
		}
		if len(arr) == 0 {
			sum = n.leafHash(ph, emptyArray)
		}
		return append(dst, ']'), len(arr) == 0, sum
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst, k, h := n.writeInner(dst, o, ph)
		if k == 0 {
			h = n.leafHash(ph, emptyObject)
		}
		return dst, k == 0, h
	}
	return dst, false, 0
}

// writeInner writes an object found inside an array: duplicate keys resolved
// (last wins), empty values removed, no renames.
func (n *Normalizer) writeInner(dst []byte, o *fastjson.Object, ph uint64) ([]byte, int, uint64) {
	base := len(n.kvs)
	o.Visit(func(key []byte, v *fastjson.Value) {
		if !utf8.Valid(key) {
			key = validKey(key) // as in walk: keys alike once written are one key
		}
		key = searchableKey(key, false)
		n.kvs = append(n.kvs, kvPair{key, v})
	})
	kvs := n.kvs[base:]
	dst = append(dst, '{')
	count := 0
	var sum uint64
	for i := range kvs {
		// last wins: skip a key that occurs again later in the object
		dup := false
		for j := i + 1; j < len(kvs); j++ {
			if string(kvs[j].key) == string(kvs[i].key) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		mark := len(dst)
		if count > 0 {
			dst = append(dst, ',')
		}
		kstart := len(dst)
		dst = appendKey(dst, kvs[i].key, plainKey(kvs[i].key))
		dst = append(dst, ':')
		var empty bool
		var h uint64
		if composite(kvs[i].val) {
			dst, empty, h = n.writeValue(dst, kvs[i].val, n.keyHash(ph, kvs[i].key))
		} else {
			dst, empty, _ = n.writeValue(dst, kvs[i].val, 0)
			h = n.leafHash(ph, dst[kstart:])
		}
		if empty && !n.c.cfg.KeepEmpty {
			dst = dst[:mark]
			continue
		}
		count++
		sum += h
	}
	n.kvs = n.kvs[:base]
	return append(dst, '}'), count, sum
}

// s2b returns the bytes of s without copying; the result is only ever read.
func s2b(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// String implements fmt.Stringer for debugging.
func (k Kind) String() string {
	return [...]string{"missing", "null", "string", "number", "bool", "object", "array"}[k]
}

type scratchEntry struct {
	key, val any
}

// Scratch returns this Normalizer's state for key, made by mk on first use.
// A Matcher keeps its per-event buffers here: a Normalizer is used by one
// goroutine at a time, so the state needs no lock and no pool.
func (n *Normalizer) Scratch(key any, mk func() any) any {
	for i := range n.matchers {
		if n.matchers[i].key == key {
			return n.matchers[i].val
		}
	}
	v := mk()
	n.matchers = append(n.matchers, scratchEntry{key, v})
	return v
}
