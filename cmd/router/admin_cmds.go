package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/lines"
	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// adminTokenEnv names the environment variable the admin commands read the
// admin token from when --token is not given.
const adminTokenEnv = "LOGROUTER_ADMIN_TOKEN"

// adminClient talks to a router's admin listener: base is its URL
// (http://127.0.0.1:8686), token the router's admin.token ("" sends none).
type adminClient struct {
	base  string
	token string
}

// newAdminClient returns the client for --admin and --token: the token is
// the flag's, else $LOGROUTER_ADMIN_TOKEN's.
func newAdminClient(admin, token string) adminClient {
	if token == "" {
		token = os.Getenv(adminTokenEnv)
	}
	return adminClient{base: strings.TrimRight(admin, "/"), token: token}
}

// do sends a request for path (and query) to the admin listener, with the
// token as "Authorization: Bearer <token>" when there is one.
func (c adminClient) do(method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return http.DefaultClient.Do(req)
}

// adminTokenFlag adds --token to c.
func adminTokenFlag(c *cobra.Command, token *string) {
	c.Flags().StringVar(token, "token", "", "the router's admin.token, sent as \"Authorization: Bearer\" (default $"+adminTokenEnv+", which keeps it out of the process list)")
}

// adminFromConfig sets what an admin command reaches from the router's
// configuration: admin.address (unless --admin was given), admin.token
// (unless --token or the environment gives one), and, with dir non-nil,
// quarantine.dir. Without -c it reads the embedded configuration, as
// `router run` without -c does, so that LOGROUTER_ADMIN_ADDR moves both;
// should the environment make that fail, the flags' defaults stand.
func adminFromConfig(cmd *cobra.Command, g *globalFlags, admin, token, dir *string) error {
	cfg, _, err := g.load()
	if err != nil {
		if g.config == "" {
			return nil
		}
		return err
	}
	if !cmd.Flags().Changed("admin") && cfg.Admin.Address != "" {
		host, port, err := net.SplitHostPort(cfg.Admin.Address)
		if err == nil {
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1" // listening on every interface: reach it here
			}
			*admin = "http://" + net.JoinHostPort(host, port)
		}
	}
	if *token == "" && os.Getenv(adminTokenEnv) == "" {
		*token = cfg.Admin.Token
	}
	if dir != nil {
		*dir = cfg.Quarantine.Dir
	}
	return nil
}

func statsCmd(g *globalFlags) *cobra.Command {
	var admin, token string
	var asJSON bool
	c := &cobra.Command{
		Use:   "stats",
		Short: "Print the conservation ledger of a running router (where every event went)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := adminFromConfig(cmd, g, &admin, &token, nil); err != nil {
				return &exitError{2, err}
			}
			res, err := newAdminClient(admin, token).do(http.MethodGet, "/admin/stats", "", nil)
			if err != nil {
				return fmt.Errorf("reach the admin listener (--admin %s): %w", admin, err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("admin answered %s: %s", res.Status, body)
			}
			if asJSON {
				_, err := cmd.OutOrStdout().Write(body)
				return err
			}
			var l app.Ledger
			if err := json.Unmarshal(body, &l); err != nil {
				return err
			}
			printLedger(cmd.OutOrStdout(), &l)
			return nil
		},
	}
	c.Flags().StringVar(&admin, "admin", "http://127.0.0.1:8686", "the router's admin listener (default: the configuration's admin.address, the embedded one's without -c)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the raw JSON")
	adminTokenFlag(c, &token)
	return c
}

func printLedger(out io.Writer, l *app.Ledger) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "INPUT\tRECEIVED\t= ACCEPTED\t+ REFUSED\t+ QUARANTINED\t(DEDUPLICATED)\tBYTES\t")
	for _, r := range l.Inputs {
		fmt.Fprintf(w, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", r.Input, r.Received, r.Accepted, r.Refused, r.Quarantined, r.Deduplicated, r.Bytes)
	}
	fmt.Fprintln(w, "\t\t\t\t\t\t\t")
	fmt.Fprintln(w, "PRIORITY\tEVENTS\tBYTES\t")
	for _, r := range l.Priorities {
		fmt.Fprintf(w, "%s\t%.0f\t%.0f\t\n", r.Priority, r.Events, r.Bytes)
	}
	fmt.Fprintln(w, "\t\t\t")
	fmt.Fprintln(w, "DESTINATION\tROUTED\tREFUSED\tACCEPTED\t+ RECOVERED\t= DELIVERED\t+ QUARANTINED\t+ DROPPED\t+ LOST\t+ QUEUED\tIN MOTION\tBALANCED\t")
	for _, r := range l.Destinations {
		ok := "yes"
		if !r.Balanced {
			ok = "NO"
		}
		if !r.Queue {
			ok = "no queue"
		}
		fmt.Fprintf(w, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%s\t\n", r.Destination, r.Routed, r.Refused,
			r.Accepted, r.Recovered, r.Delivered, r.Quarantined, r.Dropped, r.Lost, r.Queued, r.InMotion, ok)
	}
	_ = w.Flush()
	r := l.Reduction
	pct := func(x, of float64) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*x/of)
	}
	fmt.Fprintf(out, "\nREDUCTION  received %.0f bytes -> normalized %.0f (%s of received; renames, drops and empty values removed, metadata added)\n",
		r.InputBytes, r.NormalizedBytes, pct(r.NormalizedBytes, r.InputBytes))
	fmt.Fprintf(out, "           deduplication saved %.0f bytes at each destination they were routed to (%s of normalized)\n",
		r.DedupSavedBytes, pct(r.DedupSavedBytes, r.NormalizedBytes))
	names := make([]string, 0, len(r.Destinations))
	for d := range r.Destinations {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		fmt.Fprintf(out, "           %-12s out %.0f bytes (%s of received)\n", d, r.Destinations[d], pct(r.Destinations[d], r.InputBytes))
	}
	if len(l.Dropped) > 0 {
		fmt.Fprintln(out, "\nDROPPED before any destination queue (logrouter_dropped_events_total):")
		for _, d := range l.Dropped {
			fmt.Fprintf(out, "           %-14s %-28s %.0f\n", d.Stage, d.Reason, d.Events)
		}
	}
	fmt.Fprintln(out, "\nRefused events were not acknowledged: their senders retry them, except those also listed as dropped")
	fmt.Fprintln(out, "(syslog over UDP cannot be told; the shutdown deadline). Deduplicated events are part of accepted:")
	fmt.Fprintln(out, "acknowledged, not delivered again. IN MOTION is non-zero only while a delivery is being booked.")
}

func quarantineCmd(g *globalFlags) *cobra.Command {
	c := &cobra.Command{Use: "quarantine", Short: "Inspect and replay quarantined records"}
	var admin, token, dest, reason string
	var dryRun bool
	replay := &cobra.Command{
		Use:   "replay [FILE|DIR ...]",
		Short: "Re-send quarantined records to a running router once the cause is fixed",
		Long: `Reads quarantine files (default: the configuration's quarantine.dir with -c,
else ./data/quarantine; recursively: *.ndjson) and
sends their records to the router's admin listener. Records a destination
refused go back to that destination only, as they were written (the same
bytes, hash, time, source type and priority: the same OpenSearch _id and
index); input records, and destination records of releases before that
recorded what was written, go through normalization again (one line, one
event).

Each record is sent once: after every chunk the router accepts, the lines
sent are recorded next to the file (<file>.replay.json and its journal
<file>.replay.log), so a later run
(with or without --destination and --reason, after a failure or a crash)
sends only what was not sent yet. Files are never moved or changed, so the
router may go on appending to its current file; records added later are
sent by a later run. An incomplete last line (a write in progress, or torn
by a crash) is reported and left; the complete records are replayed. A file
that changed since its progress was recorded is refused, a finished one
included (its recorded bytes are checked, not parsed). Files renamed to
*.replayed by earlier versions are not read.

A record of more lines or bytes than one request may carry (a quarantined
request body) is sent in parts, line by line as the router replays it; the
lines accepted are recorded, so a later run sends only the rest of it. A
record the router refuses even alone (413 for a single line) is reported and
left: it is not replayed, and later runs do not send it again; the run goes
on. The router must answer {"replayed":n,"rejected":m} for the non-blank
lines sent: any other answer, another error status or a network error stops
the run.

The output says, per file and in total, what was replayed (and how many of
its lines the router quarantined again), what was skipped because an earlier
run replayed it, and what is left (filtered out, without raw bytes, refused
by the router as too large, torn or unreadable lines).

Replaying changes state, so the router requires its admin.token, sent from
--token or $LOGROUTER_ADMIN_TOKEN; a router without admin.token accepts
replays from its own host (loopback) only.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "./data/quarantine"
			if err := adminFromConfig(cmd, g, &admin, &token, &dir); err != nil {
				return &exitError{2, err}
			}
			if len(args) == 0 {
				args = []string{dir}
			}
			return replayQuarantineTo(cmd.OutOrStdout(), newAdminClient(admin, token), args, dest, reason, dryRun)
		},
	}
	replay.Flags().StringVar(&admin, "admin", "http://127.0.0.1:8686", "the router's admin listener (default: the configuration's admin.address, the embedded one's without -c)")
	replay.Flags().StringVar(&dest, "destination", "", "only records refused by this destination (\"input\" for input rejections)")
	replay.Flags().StringVar(&reason, "reason", "", "only records with this reason (records the router rejected again during an earlier replay are sent only when their reason is named)")
	replay.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be replayed, send nothing, record nothing")
	adminTokenFlag(replay, &token)
	c.AddCommand(replay, quarantineListCmd(g))
	return c
}

// quarantineFiles lists the files args name, sorted: a file as given, a
// directory's *.ndjson files recursively. Neither the *.replayed files
// earlier versions renamed replayed files to nor progress files are
// listed; named as arguments (a shell glob), they are skipped with a note
// to out.
func quarantineFiles(out io.Writer, args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(a) {
			wd, _ := os.Getwd()
			return nil, fmt.Errorf("no quarantine at %s (relative to the working directory, %s): run where the router runs, or name the directory (the configuration's quarantine.dir, read with -c)", a, wd)
		}
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			switch {
			case strings.HasSuffix(a, ".replayed"):
				fmt.Fprintf(out, "%s: skipped: an earlier version replayed all its records and renamed it; to send them again, rename it back to %s\n",
					a, filepath.Base(strings.TrimSuffix(a, ".replayed")))
			case strings.HasSuffix(a, progressSuffix), strings.HasSuffix(a, progressSuffix+".tmp"), strings.HasSuffix(a, journalSuffix),
				filepath.Base(a) == quarantine.SealKeyFile:
				// The replay progress of a quarantine file, or the
				// router's seal key (a shell glob names it): not one.
			default:
				files = append(files, a)
			}
			continue
		}
		// WalkDir does not follow a root that is a symbolic link (a data
		// directory moved to a larger disk): walk what it points to.
		root, err := filepath.EvalSymlinks(a)
		if err != nil {
			return nil, err
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".ndjson") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// Replay tuning.
const (
	// replayChunk is the most records one POST /admin/replay carries;
	// progress is recorded after each accepted chunk, so a failure or a
	// crash re-sends at most the chunk in flight.
	replayChunk = 1000
	// replayChunkBytes is the most body bytes one POST carries (a record
	// goes alone when it is larger): well within app.ReplayMaxBodyBytes,
	// and small enough that its events, normalized, stay within the
	// router's per-request bound.
	replayChunkBytes = 8 << 20
	// replayLiveWindow: a file modified more recently than this may still
	// be written to by the router (a write in flight as the hour turned), so
	// it is never recorded as finished.
	replayLiveWindow = 10 * time.Minute
	// progressSuffix names a quarantine file's replay progress.
	progressSuffix = ".replay.json"
	// maxReplayLine bounds one line, as quarantine.ReadFile does.
	maxReplayLine = 1 << 30
)

// replayTally counts records for the summary of a run (or one file).
type replayTally struct {
	selected   int // not replayed before, chosen by the filters
	sent       int // accepted by the router in this run
	rejected   int // lines of those the router quarantined again
	renormal   int // records sent as written that the router normalized again (not sealed by it)
	already    int // replayed by an earlier run: skipped
	filtered   int // left by --destination or --reason
	again      int // rejected again during an earlier replay: left unless --reason names theirs
	cut        int // an input's too_large records (their first bytes only): left unless --reason too_large
	noRaw      int // without raw bytes: nothing to send
	refused    int // refused by the router even alone (413): left, not sent again
	torn       int // incomplete last lines
	unreadable int // complete lines that do not parse
	finished   int // files finished by an earlier run, not parsed again
}

func (t *replayTally) add(o *replayTally) {
	t.selected += o.selected
	t.sent += o.sent
	t.rejected += o.rejected
	t.renormal += o.renormal
	t.already += o.already
	t.filtered += o.filtered
	t.again += o.again
	t.cut += o.cut
	t.noRaw += o.noRaw
	t.refused += o.refused
	t.torn += o.torn
	t.unreadable += o.unreadable
	t.finished += o.finished
}

// details qualifies a file's replayed records and lists its skipped and
// left ones: " (1 line quarantined again by the router, 2 already replayed,
// 1 filtered out)", or "" when there is nothing to say.
func (t *replayTally) details() string {
	var d []string
	if t.rejected > 0 {
		d = append(d, plural(t.rejected, "line")+" quarantined again by the router")
	}
	if t.renormal > 0 {
		d = append(d, fmt.Sprintf("%d not sealed by this router, so normalized again", t.renormal))
	}
	if t.already > 0 {
		d = append(d, fmt.Sprintf("%d already replayed", t.already))
	}
	d = t.appendLeft(d)
	if len(d) == 0 {
		return ""
	}
	return " (" + strings.Join(d, ", ") + ")"
}

// appendLeft appends the records of t left unsent, by why.
func (t *replayTally) appendLeft(d []string) []string {
	if t.again > 0 {
		d = append(d, fmt.Sprintf("%d rejected again by an earlier replay (send them with --reason and their reason: router quarantine list shows it)", t.again))
	}
	if t.cut > 0 {
		d = append(d, fmt.Sprintf("%d too_large (only their first bytes were kept: replayed, each would be a cut-off event; send them with --reason too_large if that is wanted)", t.cut))
	}
	if t.filtered > 0 {
		d = append(d, fmt.Sprintf("%d filtered out", t.filtered))
	}
	if t.noRaw > 0 {
		d = append(d, fmt.Sprintf("%d without raw bytes", t.noRaw))
	}
	if t.refused > 0 {
		d = append(d, fmt.Sprintf("%d refused by the router as too large", t.refused))
	}
	return d
}

// summary is the last line of a run.
func (t *replayTally) summary() string {
	s := fmt.Sprintf("%d records selected, %d replayed", t.selected, t.sent)
	if t.rejected > 0 {
		s += " (" + plural(t.rejected, "line") + " quarantined again by the router)"
	}
	if t.renormal > 0 {
		s += fmt.Sprintf(" (%d not sealed by this router, so normalized again, not sent as written: records of another router, edited, or of a release before seals)", t.renormal)
	}
	if t.already > 0 {
		s += fmt.Sprintf("; %d skipped (already replayed)", t.already)
	}
	left := t.appendLeft(nil)
	if t.torn > 0 {
		left = append(left, plural(t.torn, "torn line"))
	}
	if t.unreadable > 0 {
		left = append(left, plural(t.unreadable, "unreadable line"))
	}
	if len(left) > 0 {
		s += "; left: " + strings.Join(left, ", ")
	}
	if t.finished > 0 {
		s += "; " + plural(t.finished, "file") + " finished earlier, unchanged, skipped"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// replayQuarantine is replayQuarantineTo the admin listener at admin, with
// the token from $LOGROUTER_ADMIN_TOKEN (none when it is unset).
func replayQuarantine(out io.Writer, admin string, args []string, dest, reason string, dryRun bool) error {
	return replayQuarantineTo(out, newAdminClient(admin, ""), args, dest, reason, dryRun)
}

// replayQuarantineTo replays the quarantine files args name to the router
// admin talks to (see quarantineCmd for the contract) and prints what it did
// to out. A file that cannot be read, or whose progress does not match it,
// is reported and skipped; the run goes on and returns an error at the end.
// When the router does not take a chunk, or progress cannot be saved, the
// run stops at once with an error (what was accepted before is recorded).
func replayQuarantineTo(out io.Writer, admin adminClient, args []string, dest, reason string, dryRun bool) error {
	files, err := quarantineFiles(out, args)
	if err != nil {
		return err
	}
	var total replayTally
	var failed int
	for _, f := range files {
		unlock, held, err := lockForReplay(f)
		switch {
		case err != nil:
			fmt.Fprintf(out, "%s: error: %v\n", f, err)
			failed++
			continue
		case held:
			fmt.Fprintf(out, "%s: skipped: another replay is sending it now\n", f)
			continue
		}
		stop, err := replayFile(out, admin, f, dest, reason, dryRun, time.Now(), &total)
		unlock()
		if err == nil {
			continue
		}
		if stop {
			fmt.Fprintln(out, total.summary())
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Fprintf(out, "%s: error: %v\n", f, err)
		failed++
	}
	fmt.Fprintln(out, total.summary())
	if failed > 0 {
		return fmt.Errorf("%s of %d not replayed (see the errors above); the other files were handled", plural(failed, "file"), len(files))
	}
	return nil
}

// fromReplay reports whether raw is an event that came in through replay
// (logrouter.input "replay", which replay writes: an event's own logrouter
// member is dropped on that input): a destination refused it again when an
// earlier run replayed it, and sending it once more would loop.
func fromReplay(raw []byte) bool {
	if !bytes.Contains(raw, []byte(`"input":"replay"`)) {
		return false // the common case, without a parse
	}
	return fastjson.GetString(raw, "logrouter", "input") == "replay"
}

// replayGroup is what one request may mix: the records of one destination
// ("input" for input records), either replayed as written (records of a
// destination's refusal carrying "event") or normalized again.
type replayGroup struct {
	dest    string
	written bool
	// hec: input records of HEC's event endpoint (protocol hec), whose
	// raw bytes are envelopes: the router unwraps them as HEC would.
	hec bool
	// syslog: frames a syslog input refused, which the router parses as
	// its syslog input does; edge: a logrouter edge's events a gateway's
	// Kafka input refused, read again as the gateway reads them.
	syslog, edge bool
	// cloudwatch: CloudWatch Logs log events the Firehose input refused,
	// each in its subscription message, which the router makes events of
	// as that input does.
	cloudwatch bool
	// sourceType and index are the input's defaults the records had (an
	// HTTP token's source type and index): the router applies them again,
	// so a record maps and routes as it would have.
	sourceType, index string
	// meta is the rest a request gave its records (the HEC endpoints'
	// ?sourcetype=&host=&source=&time=), applied again as the input did.
	stSet, host, source string
	time                int64
	// recordTime stands in for the time of an event without its own (a
	// Kafka record's timestamp): never over the event's own, as time is.
	recordTime int64
	// ingest is when the input received the records (their quarantine
	// time, unix ns): the router replays them as received then, so that
	// an event without a time of its own keeps its @timestamp, index date
	// and archive partition.
	ingest int64
	// sender is the syslog frames' sender (their record's peer): a frame
	// without HOSTNAME has it in its content hash, so that two devices'
	// identical messages replayed together stay two events.
	sender string
}

// replayRec is what one request carries of a record: its line in the file
// and its raw bytes, all of them or, for a record over the router's
// per-request limits (a quarantined request body of many lines), some of its
// lines. The router replays a record line by line (one line, one event), so
// its lines may go in several requests.
type replayRec struct {
	line int
	raw  []byte // whole lines of the record's raw bytes, without the last "\n"
	from int    // how many of the record's raw lines come before raw
	last bool   // raw ends the record
}

// recordPos is where a selected record is in its quarantine file.
type recordPos struct {
	line int
	off  int64 // byte offset of its line
}

// recordReader reads the records of one replay group back from the file,
// in file order, a chunk at a time, so that replay holds about one
// request's records rather than the whole file.
type recordReader struct {
	f   *os.File
	br  *bufio.Reader
	at  int64 // offset br reads next
	g   replayGroup
	pos []recordPos
}

func newRecordReader(path string, g replayGroup, pos []recordPos) (*recordReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &recordReader{f: f, br: bufio.NewReaderSize(f, 256<<10), g: g, pos: pos}, nil
}

func (rr *recordReader) close() { _ = rr.f.Close() }

// next reads the next record of the group and returns its bytes as the
// replay sends them: a record of the router's own refusal with what was
// written is the record itself (one line), keeping its hash, time, source
// type and priority; any other is its raw bytes.
func (rr *recordReader) next() (replayRec, error) {
	p := rr.pos[0]
	rr.pos = rr.pos[1:]
	if p.off < rr.at {
		if _, err := rr.f.Seek(p.off, io.SeekStart); err != nil {
			return replayRec{}, err
		}
		rr.br.Reset(rr.f)
		rr.at = p.off
	}
	if _, err := rr.br.Discard(int(p.off - rr.at)); err != nil {
		return replayRec{}, err
	}
	buf, n, err := lines.Read(rr.br, nil, maxReplayLine+1)
	rr.at = p.off + int64(n)
	if err != nil && err != io.EOF {
		return replayRec{}, err
	}
	r, err := quarantine.ParseLine(buf)
	if err != nil {
		return replayRec{}, fmt.Errorf("line %d no longer parses: %w", p.line, err)
	}
	if rr.g.written {
		return replayRec{line: p.line, raw: bytes.TrimSuffix(r.AppendTo(nil), []byte("\n"))}, nil
	}
	return replayRec{line: p.line, raw: oneLineJSON(r.Raw, rr.g.hec)}, nil
}

// oneLineJSON returns raw with the line breaks between the tokens of its
// JSON taken out, when raw is JSON that spans lines: one value (a Firehose
// record holding a pretty-printed document) or, for HEC (hec), envelopes
// one after another, pretty-printed. The router replays a record line by
// line (one line, one event); sent as it is, such a record became one
// broken event per line. A line break inside a JSON string is escaped
// already, so compacting changes no value. Anything else (NDJSON, text
// lines, JSON that does not parse) is returned as it is.
func oneLineJSON(raw []byte, hec bool) []byte {
	if bytes.IndexByte(raw, '\n') < 0 {
		return raw
	}
	var out bytes.Buffer
	if json.Valid(raw) {
		if json.Compact(&out, raw) == nil {
			return out.Bytes()
		}
		return raw
	}
	if !hec {
		return raw
	}
	// Envelopes one after another: each compacted onto a line of its own.
	dec := json.NewDecoder(bytes.NewReader(raw))
	var parts [][]byte
	for {
		var m json.RawMessage
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return raw
		}
		parts = append(parts, m)
	}
	for i, m := range parts {
		if i > 0 {
			out.WriteByte('\n')
		}
		if json.Compact(&out, m) != nil {
			return raw
		}
	}
	return out.Bytes()
}

// fill appends pieces (splitRecord, from the lines already accepted in
// parts) to pieces until a whole request's worth waits, or no record is
// left.
func (rr *recordReader) fill(pieces []replayRec, parts map[int]int) ([]replayRec, error) {
	size := 0
	for _, pc := range pieces {
		size += len(pc.raw)
	}
	for len(pieces) < replayChunk && size < replayChunkBytes && len(rr.pos) > 0 {
		r, err := rr.next()
		if err != nil {
			return pieces, err
		}
		for _, pc := range splitRecord(r, parts[r.line]) {
			pieces = append(pieces, pc)
			size += len(pc.raw)
		}
	}
	return pieces, nil
}

// rawLines counts the lines of r.raw, blank ones included.
func (r replayRec) rawLines() int {
	return bytes.Count(r.raw, []byte("\n")) + 1
}

// replayFile replays the records of the quarantine file at path that no
// earlier run replayed and that dest and reason select, and adds its counts
// to total. Each chunk the router accepts is recorded (journaled, see
// progressJournal) before the next is sent; with dryRun nothing is sent or recorded. A record
// the router refuses even alone is recorded as left and the file goes on.
// stop reports an error that should end the run: the router did not take a
// chunk (or its answer was not the router's), or progress could not be
// saved.
func replayFile(out io.Writer, admin adminClient, path, dest, reason string, dryRun bool, now time.Time, total *replayTally) (stop bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	side := path + progressSuffix
	prev, err := loadProgress(side)
	if err != nil {
		return false, err
	}
	changed := func() error {
		return fmt.Errorf("changed since the last replay (its first %d bytes are not those %s was recorded for): "+
			"its line numbers may no longer name the records already replayed, so nothing is sent from it; "+
			"if it was replaced on purpose, move %s away to replay the whole file (records replayed before are sent again)",
			prev.Bytes, filepath.Base(side), side)
	}
	if prev != nil && prev.Finished && st.Size() == prev.Bytes+prev.TornBytes {
		// The size alone does not say the file is the one recorded: a
		// file replaced by other records of the same size is not.
		crc, err := prefixCRC(path, prev.Bytes)
		if err != nil {
			return false, err
		}
		if crc != prev.CRC32C {
			return false, changed()
		}
		total.add(&replayTally{already: prev.replayedLines(), noRaw: prev.NoRaw, refused: prev.leftLines(),
			unreadable: len(prev.Unreadable), torn: boolInt(prev.TornBytes > 0), finished: 1})
		return false, nil
	}
	done, left, parts := lineSet{}, lineSet{}, map[int]int{}
	var checkAt int64
	var checkCRC uint32
	if prev != nil {
		if st.Size() < prev.Bytes {
			return false, changed()
		}
		done, left = newLineSet(prev.Replayed), newLineSet(prev.Left)
		for _, p := range prev.Parts {
			parts[p[0]] = p[1]
		}
		checkAt, checkCRC = prev.Bytes, prev.CRC32C
	}
	live := mayBeWritten(path, st.ModTime(), now)
	var fc replayTally
	// Groups hold where each selected record is, not its bytes: a file of
	// hundreds of MiB is read back a chunk at a time (recordReader).
	groups := map[replayGroup][]recordPos{}
	firstIngest := map[replayGroup]int64{}
	scan, err := scanQuarantine(path, !live, checkAt, checkCRC, func(line int, off int64, r quarantine.Record) {
		d := r.Destination
		if d == "" {
			d = "input"
		}
		switch {
		case done.has(line):
			fc.already++
		case left.has(line):
			fc.refused++
		case len(r.Raw) == 0:
			fc.noRaw++
		case (dest != "" && d != dest) || (reason != "" && r.Reason != reason):
			fc.filtered++
		case reason == "" && (r.Input == "replay" || fromReplay(r.Raw)):
			// Rejected again when an earlier run replayed it: sending it
			// once more would loop (a cron job re-sending it forever).
			// Naming its reason sends it.
			fc.again++
		case reason == "" && d == "input" && r.Reason == "too_large" && r.Protocol != httpin.ProtoFirehose:
			// (Firehose keeps a record it cannot gunzip within the limit
			// whole, as its gzip data: that one replays as it came.)
			// An input keeps a record over its size limit as its first
			// bytes: sent, that prefix would be taken as an event of its
			// own (a JSON record cut short is text). Naming the reason
			// sends it.
			fc.cut++
		default:
			fc.selected++
			// A destination's refusal with what was written goes back as
			// it was (see recordReader).
			g := replayGroup{dest: d, written: r.Destination != "" && r.Event != nil}
			// An OTLP log record is quarantined as the HEC envelope it
			// was made into (httpin.ProtoOTLP).
			g.hec = d == "input" && (r.Protocol == "hec" || r.Protocol == httpin.ProtoOTLP)
			g.syslog = d == "input" && strings.HasPrefix(r.Protocol, "syslog-")
			if g.syslog {
				g.sender = r.Peer
			}
			g.edge = d == "input" && r.Protocol == "kafka-edge"
			g.cloudwatch = d == "input" && r.Protocol == httpin.ProtoCloudWatch
			if d == "input" {
				g.sourceType, g.index = r.DefaultSourceType, r.DefaultIndex
				g.stSet, g.host, g.source = r.SourceType, r.DefaultHost, r.DefaultSource
				if !r.DefaultTime.IsZero() {
					g.time = r.DefaultTime.UnixNano()
				}
				if !r.RecordTime.IsZero() {
					g.recordTime = r.RecordTime.UnixNano()
				}
				// Grouped by the second: records of one request share
				// their time (a syslog connection's differ by nanoseconds),
				// and the group goes with its first record's time.
				if !r.Time.IsZero() {
					g.ingest = r.Time.Truncate(time.Second).UnixNano()
					if _, ok := firstIngest[g]; !ok {
						firstIngest[g] = r.Time.UnixNano()
					}
				}
			}
			groups[g] = append(groups[g], recordPos{line: line, off: off})
		}
	})
	if err != nil {
		return false, err
	}
	if !scan.prefixOK {
		return false, changed()
	}
	defer total.add(&fc)
	fc.unreadable = len(scan.unreadable)
	for i, b := range scan.unreadable {
		if i == 10 {
			fmt.Fprintf(out, "%s: warning: %d more lines do not parse\n", path, len(scan.unreadable)-i)
			break
		}
		fmt.Fprintf(out, "%s: warning: line %d does not parse (%v): it is not replayed; inspect it\n", path, b.line, b.err)
	}
	if scan.tornLine > 0 {
		fc.torn = 1
		if live {
			fmt.Fprintf(out, "%s: line %d is incomplete (%d bytes, no newline yet): the router may still be writing it; a later replay sends it once it is complete\n",
				path, scan.tornLine, scan.tornBytes)
		} else {
			fmt.Fprintf(out, "%s: warning: line %d is incomplete (%d bytes without a newline), cut by a crash or a failed write: it cannot be replayed and is left in the file; the complete records were handled\n",
				path, scan.tornLine, scan.tornBytes)
		}
	}
	if dryRun {
		if fc.selected > 0 {
			fmt.Fprintf(out, "%s: would replay %d of %d records%s\n", path, fc.selected, scan.records, fc.details())
		}
		return false, nil
	}

	p := &replayProgress{Version: 2, Bytes: scan.bytes, CRC32C: scan.crc, Records: scan.records, NoRaw: fc.noRaw, TornBytes: scan.tornBytes}
	j := &progressJournal{path: journalPath(side)}
	var snapBytes int64 // the last snapshot's size
	for _, b := range scan.unreadable {
		p.Unreadable = append(p.Unreadable, b.line)
	}
	save := func() error {
		p.Replayed, p.Left = done.ranges(), left.ranges()
		p.Parts = p.Parts[:0]
		for line, n := range parts {
			p.Parts = append(p.Parts, [2]int{line, n})
		}
		sort.Slice(p.Parts, func(i, j int) bool { return p.Parts[i][0] < p.Parts[j][0] })
		p.Finished = !live && fc.already+fc.sent+fc.noRaw+fc.refused == scan.records
		p.Updated = time.Now().UTC().Format(time.RFC3339)
		p.Journal = newJournalID()
		n, err := saveProgress(side, p)
		if err != nil {
			return err
		}
		snapBytes = n
		return j.restart(p.Journal)
	}
	// record journals what an accepted chunk changed, and takes the
	// journal into a new snapshot once it outweighs the last one.
	record := func(d progressDelta) error {
		if err := j.append(d); err != nil {
			return save() // the sets hold the chunk: a snapshot records it too
		}
		if j.size > max(journalCompactBytes, snapBytes) {
			if err := save(); err != nil {
				// The journal holds every accepted chunk: go on, and
				// try the snapshot again once the journal doubles.
				snapBytes = 2 * j.size
				fmt.Fprintf(out, "%s: warning: the progress snapshot %s could not be written (%v); its journal %s keeps what was accepted\n", path, side, err, j.path)
			}
		}
		return nil
	}
	defer func() {
		// The journal holds every accepted chunk; a run that stops
		// early (an error) still leaves one snapshot with all of it.
		if j.entries > 0 {
			_ = save()
		}
		j.close()
	}()
	if len(groups) > 0 {
		// Progress that cannot be recorded would make every run send the
		// same accepted chunk again: find out before sending anything.
		if err := save(); err != nil {
			return true, fmt.Errorf("cannot record replay progress in %s: %w; nothing was sent from this file: make its directory writable first", side, err)
		}
	}
	order := make([]replayGroup, 0, len(groups))
	for g := range groups {
		order = append(order, g)
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.dest != b.dest {
			return a.dest < b.dest
		}
		if a.written != b.written {
			return !a.written
		}
		if a.hec != b.hec {
			return !a.hec
		}
		if a.syslog != b.syslog {
			return !a.syslog
		}
		if a.edge != b.edge {
			return !a.edge
		}
		return a.ingest < b.ingest
	})
	for _, g := range order {
		d := g.dest
		src, err := newRecordReader(path, g, groups[g])
		if err != nil {
			return true, err
		}
		defer src.close()
		var pieces []replayRec
		most := replayChunk // pieces per request: halved on a 413
		for {
			// Read records until a whole chunk's worth waits (or none is
			// left): only about one request's records are in memory.
			var err error
			if pieces, err = src.fill(pieces, parts); err != nil {
				return true, fmt.Errorf("%s: reading the records back: %w (%d records of this file were sent and recorded before; run the command again: only the rest is sent)", path, err, fc.sent)
			}
			if len(pieces) == 0 {
				break
			}
			n := min(replayChunkOf(pieces), most)
			pg := g
			pg.ingest = firstIngest[g]
			rejected, renormal, err := postReplay(admin, pg, pieces[:n])
			var tooLarge *replayTooLargeError
			if errors.As(err, &tooLarge) {
				// Nothing of the request was taken: send less.
				switch {
				case n > 1:
					most = n / 2
				case pieces[0].rawLines() > 1:
					halves := pieces[0].halve()
					pieces = append(halves[:], pieces[1:]...)
				default:
					// One line the router does not take: its record
					// can never be replayed. Leave it, once.
					line, before := pieces[0].line, pieces[0].from
					for len(pieces) > 0 && pieces[0].line == line {
						pieces = pieces[1:]
					}
					left.add(line)
					delete(parts, line)
					fc.refused++
					most = replayChunk
					fmt.Fprintf(out, "%s: line %d: the router refuses this record even alone (%v): it is left in the file, not replayed, and later runs do not send it again%s; inspect it (to try again, take line %d out of \"left\" and set \"finished\": false in %s)\n",
						path, line, err, partlySent(before), line, side)
					if err := save(); err != nil {
						return true, fmt.Errorf("line %d was refused by the router but could not be recorded as left: %w; fix that before the next replay", line, err)
					}
				}
				continue
			}
			if err != nil {
				if fc.sent > 0 {
					fmt.Fprintf(out, "%s: replayed %d of %d records before the error%s\n", path, fc.sent, scan.records, fc.details())
				}
				return true, fmt.Errorf("replay to %s: %w (%d records of this file were sent and recorded before; run the command again once the router takes them: only the rest is sent)",
					d, err, fc.sent)
			}
			var d progressDelta
			for _, pc := range pieces[:n] {
				if pc.last {
					done.add(pc.line)
					delete(parts, pc.line)
					fc.sent++
					d.Replayed = append(d.Replayed, pc.line)
				} else {
					parts[pc.line] = pc.from + pc.rawLines()
					d.Parts = append(d.Parts, [2]int{pc.line, parts[pc.line]})
				}
			}
			fc.rejected += rejected
			fc.renormal += renormal
			if err := record(d); err != nil {
				return true, fmt.Errorf("the router accepted %s of this file but their progress could not be saved: %w; "+
					"fix that before the next replay, or the records of lines %d to %d are sent again", plural(n, "record"), err, pieces[0].line, pieces[n-1].line)
			}
			pieces = pieces[n:]
		}
	}
	if j.entries > 0 {
		// The run's last snapshot: it takes in the journal and says
		// whether the file is finished. Without it the journal still
		// holds every accepted chunk (the next run folds it in).
		if err := save(); err != nil {
			fmt.Fprintf(out, "%s: warning: the final progress snapshot %s could not be written (%v); its journal %s keeps what was accepted, and the next run takes it in\n", path, side, err, j.path)
		}
	}
	if fc.sent > 0 {
		fmt.Fprintf(out, "%s: replayed %d of %d records%s\n", path, fc.sent, scan.records, fc.details())
	} else if !live && fc.already+fc.noRaw+fc.refused == scan.records && (prev == nil || !prev.Finished) {
		// Nothing left to send, ever: record the file as finished so that
		// later runs need not parse it.
		if err := save(); err != nil {
			return false, err
		}
	}
	return false, nil
}

// partlySent says, for a record left part way, how many of its lines were
// replayed before the one refused.
func partlySent(lines int) string {
	if lines == 0 {
		return ""
	}
	return fmt.Sprintf(" (its first %s were replayed)", plural(lines, "line"))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mayBeWritten reports whether the router may still append to the
// quarantine file at path: its name carries the current UTC hour or a later
// one (quarantine-<YYYYMMDDTHH>[.N].ndjson), or it was modified less than
// replayLiveWindow ago. The router never appends to a file of an earlier
// hour or an earlier process, so any other file is finished.
func mayBeWritten(path string, mod, now time.Time) bool {
	if now.Sub(mod) < replayLiveWindow {
		return true
	}
	stem, ok := strings.CutSuffix(filepath.Base(path), ".ndjson")
	if !ok {
		return false
	}
	if i := strings.LastIndexByte(stem, '.'); i >= 0 {
		if _, err := strconv.Atoi(stem[i+1:]); err == nil {
			stem = stem[:i] // the rotation index
		}
	}
	i := strings.LastIndexByte(stem, '-')
	if i < 0 {
		return false
	}
	hour, err := time.Parse("20060102T15", stem[i+1:])
	if err != nil {
		return false
	}
	return now.Before(hour.Add(time.Hour))
}

// replayProgress is the content of <file>.replay.json: the lines of a
// quarantine file the router accepted from replay, so that no later run
// sends them again. It is a snapshot, replaced atomically at the start and
// end of a run and when a line is left; the chunks accepted in between are
// appended to its journal (progressJournal), which loadProgress folds in.
type replayProgress struct {
	// Version is 2: a snapshot that a journal continues (Journal). Version
	// 1 (no journal) is still read; replay commands that know only 1
	// refuse a 2 rather than take it as complete and resend what its
	// journal holds.
	Version int `json:"version"`
	// Bytes and CRC32C identify the file: the progress holds only while
	// the file's first Bytes bytes (whole lines) have this CRC-32C
	// (Castagnoli). Quarantine files are only ever appended to.
	Bytes  int64  `json:"bytes"`
	CRC32C uint32 `json:"crc32c"`
	// Records is how many records the first Bytes bytes hold; NoRaw of them
	// have no raw bytes (nothing to send).
	Records int `json:"records"`
	NoRaw   int `json:"no_raw,omitempty"`
	// Unreadable lists the lines that do not parse; TornBytes is the size
	// of the incomplete last line after Bytes, if any.
	Unreadable []int `json:"unreadable,omitempty"`
	TornBytes  int64 `json:"torn_bytes,omitempty"`
	// Replayed lists the lines (numbered from 1) the router accepted, as
	// [first, last] ranges.
	Replayed [][2]int `json:"replayed"`
	// Left lists, as ranges, the lines of records the router refused even
	// alone (413 for one line): they are not sent again.
	Left [][2]int `json:"left,omitempty"`
	// Parts lists the records sent in parts (more lines than one request
	// carries) that a run stopped in, as [line, raw lines accepted]: the
	// next run sends the rest of each.
	Parts [][2]int `json:"parts,omitempty"`
	// Finished: the router no longer writes the file and every record with
	// raw bytes was replayed or left. Later runs skip the file, not parsed,
	// while its size is Bytes+TornBytes and its first Bytes bytes still
	// have CRC32C.
	Finished bool `json:"finished"`
	// Updated is when this was written (RFC 3339, UTC).
	Updated string `json:"updated"`
	// Journal names the journal (<file>.replay.log) that continues this
	// snapshot: the chunks accepted after it (see progressJournal).
	Journal string `json:"journal,omitempty"`
}

// replayedLines counts the lines in p.Replayed.
func (p *replayProgress) replayedLines() int {
	return rangeLines(p.Replayed)
}

// leftLines counts the lines in p.Left.
func (p *replayProgress) leftLines() int {
	return rangeLines(p.Left)
}

func rangeLines(ranges [][2]int) int {
	n := 0
	for _, r := range ranges {
		n += r[1] - r[0] + 1
	}
	return n
}

// loadProgress reads the progress file at path, with its journal's entries
// folded in; nil when there is none.
func loadProgress(path string) (*replayProgress, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read replay progress: %w", err)
	}
	bad := func(why string) error {
		return fmt.Errorf("replay progress %s is damaged (%s): it records which records were already replayed; "+
			"repair it, or move it away to replay the whole file again (records replayed before are sent again)", path, why)
	}
	var p replayProgress
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, bad(err.Error())
	}
	if p.Version != 1 && p.Version != 2 {
		return nil, bad(fmt.Sprintf("version %d, this router knows 1 and 2", p.Version))
	}
	if p.Bytes < 0 || p.TornBytes < 0 {
		return nil, bad("negative size")
	}
	for _, rs := range [][][2]int{p.Replayed, p.Left} {
		last := 0
		for _, r := range rs {
			// A line takes at least one byte: no line number exceeds Bytes.
			if r[0] <= last || r[1] < r[0] || int64(r[1]) > p.Bytes {
				return nil, bad(fmt.Sprintf("range %v out of order or past the file's %d bytes", r, p.Bytes))
			}
			last = r[1]
		}
	}
	last := 0
	for _, r := range p.Parts {
		if r[0] <= last || int64(r[0]) > p.Bytes || r[1] < 1 {
			return nil, bad(fmt.Sprintf("part %v out of order, past the file's %d bytes or empty", r, p.Bytes))
		}
		last = r[0]
	}
	if err := foldJournal(&p, path, bad); err != nil {
		return nil, err
	}
	return &p, nil
}

// prefixCRC returns the CRC-32C of the first n bytes of the file at path.
func prefixCRC(path string, n int64) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	if _, err := io.CopyN(h, bufio.NewReaderSize(f, 256<<10), n); err != nil {
		return 0, fmt.Errorf("read its first %d bytes: %w", n, err)
	}
	return h.Sum32(), nil
}

// saveProgress replaces the progress file at path atomically: it writes a
// temporary file, fsyncs it, renames it over path and fsyncs the directory.
// It returns the file's size.
func saveProgress(path string, p *replayProgress) (int64, error) {
	progressSnapshots.Add(1)
	b, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return 0, err
	}
	return int64(len(b) + 1), wal.OS.SyncDir(filepath.Dir(path))
}

// lineSet is a set of line numbers (a bitmap).
type lineSet []uint64

func newLineSet(ranges [][2]int) lineSet {
	var s lineSet
	for _, r := range ranges {
		for n := r[0]; n <= r[1]; n++ {
			s.add(n)
		}
	}
	return s
}

func (s lineSet) has(n int) bool {
	return n/64 < len(s) && s[n/64]&(1<<(n%64)) != 0
}

func (s *lineSet) add(n int) {
	for n/64 >= len(*s) {
		*s = append(*s, 0)
	}
	(*s)[n/64] |= 1 << (n % 64)
}

// ranges returns the set as sorted [first, last] ranges.
func (s lineSet) ranges() [][2]int {
	r := [][2]int{}
	start := -1
	for i, w := range s {
		if (w == 0 && start < 0) || (w == ^uint64(0) && start >= 0) {
			continue
		}
		for b := range 64 {
			n, in := i*64+b, w&(1<<b) != 0
			switch {
			case in && start < 0:
				start = n
			case !in && start >= 0:
				r = append(r, [2]int{start, n - 1})
				start = -1
			}
		}
	}
	if start >= 0 {
		r = append(r, [2]int{start, len(s)*64 - 1})
	}
	return r
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileScan is what scanQuarantine read from a quarantine file.
type fileScan struct {
	bytes      int64     // end of the last complete line
	crc        uint32    // CRC-32C of the bytes [0, bytes)
	records    int       // records passed to fn
	unreadable []badLine // complete lines that do not parse
	tornLine   int       // number of an incomplete last line; 0 when none
	tornBytes  int64     // its size
	prefixOK   bool      // a line ended at checkAt, and the bytes before it had CRC-32C checkCRC
}

type badLine struct {
	line int
	err  error
}

// scanQuarantine calls fn with every record of the quarantine file at path
// and its line number (from 1), in file order. Blank lines are skipped; a
// complete line that does not parse is listed in unreadable and skipped. A
// last line without its newline is torn (the router is writing it, or a
// crash cut it): it is reported in tornLine and left out of bytes, unless
// whole is set (the file is no longer written) and it parses, when it is a
// record. checkAt and checkCRC are the identity an earlier run recorded;
// prefixOK says whether the file still has it. The error is an IO error, or
// a line too long for a quarantine file.
func scanQuarantine(path string, whole bool, checkAt int64, checkCRC uint32, fn func(line int, off int64, r quarantine.Record)) (fileScan, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileScan{}, err
	}
	defer f.Close()
	s := fileScan{prefixOK: checkAt == 0 && checkCRC == 0}
	checked := checkAt == 0
	br := bufio.NewReaderSize(f, 256<<10)
	var buf []byte
	for line := 1; ; line++ {
		var n int
		var rerr error
		buf, n, rerr = lines.Read(br, buf, maxReplayLine+1)
		if n > maxReplayLine {
			return s, fmt.Errorf("line %d is longer than %d bytes: not a quarantine file?", line, maxReplayLine)
		}
		if rerr != nil && rerr != io.EOF {
			return s, rerr
		}
		if len(buf) == 0 {
			return s, nil
		}
		blank := len(bytes.TrimSpace(buf)) == 0
		var rec quarantine.Record
		var perr error
		if !blank {
			rec, perr = quarantine.ParseLine(buf)
		}
		if rerr == io.EOF && !blank && (perr != nil || !whole) {
			s.tornLine, s.tornBytes = line, int64(len(buf))
			return s, nil
		}
		off := s.bytes
		s.bytes += int64(len(buf))
		s.crc = crc32.Update(s.crc, castagnoli, buf)
		if !checked && s.bytes >= checkAt {
			checked = true
			s.prefixOK = s.bytes == checkAt && s.crc == checkCRC
		}
		switch {
		case blank:
		case perr != nil:
			s.unreadable = append(s.unreadable, badLine{line: line, err: perr})
		default:
			s.records++
			fn(line, off, rec)
		}
		if rerr == io.EOF {
			return s, nil
		}
	}
}

// splitRecord splits the rest of record r, its raw lines from "from" on
// (the earlier ones were accepted before), into pieces of at most
// app.ReplayMaxRecords lines and replayChunkBytes bytes of body; a longer
// line is a piece alone. A record within these limits is one piece.
func splitRecord(r replayRec, from int) []replayRec {
	rest, line := r.raw, 0
	for ; line < from; line++ {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 { // every line was accepted: nothing but the end to send
			return []replayRec{{line: r.line, from: from, last: true}}
		}
		rest = rest[i+1:]
	}
	var ps []replayRec
	cur, lines := replayRec{line: r.line, from: line}, 0
	start := 0 // where cur begins in rest
	for off := 0; ; line++ {
		end := len(rest)
		i := bytes.IndexByte(rest[off:], '\n')
		if i >= 0 {
			end = off + i
		}
		if lines > 0 && (lines == app.ReplayMaxRecords || end-start+1 > replayChunkBytes) {
			cur.raw = rest[start : off-1]
			ps = append(ps, cur)
			cur, lines, start = replayRec{line: r.line, from: line}, 0, off
		}
		lines++
		if i < 0 {
			break
		}
		off = end + 1
	}
	cur.raw, cur.last = rest[start:], true
	return append(ps, cur)
}

// halve splits r, of two lines or more, into two pieces of about half its
// lines each.
func (r replayRec) halve() [2]replayRec {
	k, off := r.rawLines()/2, 0
	for range k {
		off += bytes.IndexByte(r.raw[off:], '\n') + 1
	}
	return [2]replayRec{
		{line: r.line, raw: r.raw[:off-1], from: r.from},
		{line: r.line, raw: r.raw[off:], from: r.from + k, last: r.last},
	}
}

// replayChunkOf returns how many of recs, at least one, the next POST
// carries: at most replayChunk pieces of records, app.ReplayMaxRecords lines
// (a record holding several lines replays as several) and replayChunkBytes
// bytes of body. splitRecord keeps each piece within the last two but for a
// single line longer than replayChunkBytes, which goes alone: the router
// takes it (a line over app.ReplayMaxEventBytes is quarantined again as
// too_large) or answers 413 naming its limit.
func replayChunkOf(recs []replayRec) int {
	lines, size := 0, 0
	for i, r := range recs {
		l := r.rawLines()
		s := len(r.raw) + 1
		if i == replayChunk || (i > 0 && (lines+l > app.ReplayMaxRecords || size+s > replayChunkBytes)) {
			return i
		}
		lines += l
		size += s
	}
	return len(recs)
}

// replayTooLargeError is the router's 413: a request over one of its
// per-request limits, of which it took nothing.
type replayTooLargeError struct{ msg string }

func (e *replayTooLargeError) Error() string { return e.msg }

// postReplay sends one chunk of records (or pieces of them) to the router
// and returns how many of their lines it quarantined again (its
// "rejected"); a nil error means it took all of them. A 413 is a
// *replayTooLargeError. A 200 is the router's only when its body is
// {"replayed":n,"rejected":m} with n+m the records (non-blank lines) sent;
// any other is an error, as nothing is known to be replayed: a wrong
// --admin, a proxy's login page.
func postReplay(admin adminClient, g replayGroup, recs []replayRec) (rejected, renormalized int, err error) {
	path := "/admin/replay"
	if g.written {
		// A router without this path answers 404: it never takes the
		// record lines for events.
		path = "/admin/replay/written"
	}
	if g.hec {
		// Its own path: a router without it answers 404 rather than
		// take the envelopes for events.
		path = "/admin/replay/hec"
	}
	if g.syslog {
		path = "/admin/replay/syslog"
	}
	if g.edge {
		path = "/admin/replay/edge"
	}
	if g.cloudwatch {
		path = "/admin/replay/cloudwatch"
	}
	q := url.Values{}
	if g.dest != "input" {
		q.Set("destination", g.dest)
	}
	if g.sourceType != "" {
		q.Set("source_type", g.sourceType)
	}
	if g.index != "" {
		q.Set("index", g.index)
	}
	if g.ingest > 0 {
		q.Set("ingest_time", strconv.FormatInt(g.ingest, 10))
	}
	if g.stSet != "" {
		q.Set("sourcetype", g.stSet)
	}
	if g.host != "" {
		q.Set("host", g.host)
	}
	if g.source != "" {
		q.Set("source", g.source)
	}
	if g.time != 0 {
		q.Set("time", strconv.FormatInt(g.time, 10))
	}
	if g.recordTime != 0 {
		q.Set("record_time", strconv.FormatInt(g.recordTime, 10))
	}
	if g.sender != "" {
		if _, err := netip.ParseAddr(g.sender); err == nil {
			q.Set("sender", g.sender)
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var body bytes.Buffer
	for _, r := range recs {
		// A record holding several lines (a quarantined NDJSON body)
		// replays as several events, which is what it held.
		body.Write(r.raw)
		body.WriteByte('\n')
	}
	sent := replayRecords(body.Bytes())
	res, err := admin.do(http.MethodPost, path, "application/x-ndjson", &body)
	if err != nil {
		return 0, 0, err
	}
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		if g.written {
			return 0, 0, fmt.Errorf("%s: the router does not know POST /admin/replay/written (it predates replaying refused events as they were written): upgrade the router; nothing of this chunk was taken", res.Status)
		}
		if g.hec {
			return 0, 0, fmt.Errorf("%s: the router does not know POST /admin/replay/hec (it predates replaying HEC envelopes as HEC would): upgrade the router; nothing of this chunk was taken", res.Status)
		}
		if g.edge {
			return 0, 0, fmt.Errorf("%s: the router does not know POST /admin/replay/edge (it predates replaying an edge's events as a gateway reads them): upgrade the router; nothing of this chunk was taken", res.Status)
		}
		if g.cloudwatch {
			return 0, 0, fmt.Errorf("%s: the router does not know POST /admin/replay/cloudwatch (it predates replaying CloudWatch Logs events as Firehose delivers them): upgrade the router; nothing of this chunk was taken", res.Status)
		}
		if g.syslog {
			return 0, 0, fmt.Errorf("%s: the router does not know POST /admin/replay/syslog (it predates replaying syslog frames through its parser): upgrade the router; nothing of this chunk was taken", res.Status)
		}
		return 0, 0, fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(msg)))
	case http.StatusRequestEntityTooLarge:
		// Only the router's own 413 (its messages start so) means "too
		// much for one request": a proxy's or another service's 413 must
		// not make records be left for good.
		if !strings.HasPrefix(string(msg), "replay request") {
			return 0, 0, fmt.Errorf("%s, but not the router's answer (%q): check that --admin names the router's admin listener, not a proxy or another service", res.Status, snippet(msg))
		}
		return 0, 0, &replayTooLargeError{fmt.Sprintf("%s: %s", res.Status, strings.TrimSpace(string(msg)))}
	default:
		return 0, 0, fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(msg)))
	}
	var ans struct {
		Replayed *int `json:"replayed"`
		Rejected *int `json:"rejected"`
		// Renormalized (of Replayed; /admin/replay/written only): records
		// the router did not take as written, their seal not its own.
		Renormalized int `json:"renormalized"`
	}
	if err := json.Unmarshal(msg, &ans); err != nil || ans.Replayed == nil || ans.Rejected == nil {
		return 0, 0, fmt.Errorf("%s, but the answer is not the router's replay answer {\"replayed\":n,\"rejected\":m} (%q): "+
			"check that --admin names the router's admin listener, not a proxy or another service; nothing of this chunk is recorded as replayed",
			res.Status, snippet(msg))
	}
	if *ans.Replayed < 0 || *ans.Rejected < 0 || *ans.Replayed+*ans.Rejected != sent {
		return 0, 0, fmt.Errorf("the router answered for %d records, %d were sent (%s): "+
			"check that --admin names a router of this version; nothing of this chunk is recorded as replayed",
			*ans.Replayed+*ans.Rejected, sent, strings.TrimSpace(string(msg)))
	}
	return *ans.Rejected, max(0, ans.Renormalized), nil
}

// replayRecords counts the records of a replay body as the router does: the
// lines that are not empty without their "\n" or "\r\n".
func replayRecords(body []byte) int {
	n := 0
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if len(bytes.TrimSuffix(line, []byte("\r"))) > 0 {
			n++
		}
	}
	return n
}

// snippet is the start of an answer, for an error message.
func snippet(b []byte) string {
	const most = 200
	if len(b) > most {
		return string(b[:most]) + "..."
	}
	return string(b)
}
