package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/logrouter/logrouter/internal/lines"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// quarantineListCmd is `router quarantine list`: what the quarantine holds,
// read from its files (no router needed), grouped by who refused the
// records and why, with what replay has sent already.
func quarantineListCmd(g *globalFlags) *cobra.Command {
	var dest, reason, input string
	var show int
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [FILE|DIR ...]",
		Short: "Summarize quarantined records (who refused them, why, how many are replayed) and show some",
		Long: `Reads quarantine files (default: the configuration's quarantine.dir with -c,
else ./data/quarantine; recursively: *.ndjson) and prints, per destination
("input" for records an input refused), reason and input, how many records
there are, how many "router quarantine replay" already sent (from the files'
replay progress), their raw bytes and the first and last time. --show N
prints the first N records not replayed yet that the filters select (their
detail and the start of their raw bytes), to see what went wrong before
replaying. Nothing is sent or changed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "./data/quarantine"
			var admin, token string
			if err := adminFromConfig(cmd, g, &admin, &token, &dir); err != nil {
				return &exitError{2, err}
			}
			if len(args) == 0 {
				args = []string{dir}
			}
			f := listFilter{dest: dest, reason: reason, input: input}
			return listQuarantine(cmd.OutOrStdout(), args, f, show, asJSON)
		},
	}
	c.Flags().StringVar(&dest, "destination", "", "only records refused by this destination (\"input\" for input rejections)")
	c.Flags().StringVar(&reason, "reason", "", "only records with this reason")
	c.Flags().StringVar(&input, "input", "", "only records of this input")
	c.Flags().IntVar(&show, "show", 0, "print the first N matching records not replayed yet")
	c.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	c.Flags().String("admin", "", "unused (accepted with -c like the other quarantine commands)")
	_ = c.Flags().MarkHidden("admin")
	return c
}

type listFilter struct{ dest, reason, input string }

func (f listFilter) match(r *quarantine.Record) bool {
	d := r.Destination
	if d == "" {
		d = "input"
	}
	return (f.dest == "" || f.dest == d) && (f.reason == "" || f.reason == r.Reason) && (f.input == "" || f.input == r.Input)
}

// listGroup is one line of the summary.
type listGroup struct {
	Destination string    `json:"destination"`
	Reason      string    `json:"reason"`
	Input       string    `json:"input"`
	Records     int       `json:"records"`
	Replayed    int       `json:"replayed"`
	Left        int       `json:"left"` // refused by the router even alone: replay does not send them again
	RawBytes    int64     `json:"raw_bytes"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
}

type listSummary struct {
	Files      int          `json:"files"`
	Groups     []*listGroup `json:"groups"`
	Records    int          `json:"records"`
	Replayed   int          `json:"replayed"`
	Left       int          `json:"left"`
	NoRaw      int          `json:"no_raw"`         // without raw bytes: replay has nothing to send
	Again      int          `json:"rejected_again"` // pending, but sent only with --reason (rejected during a replay)
	Unreadable int          `json:"unreadable_lines"`
	Notes      []string     `json:"notes,omitempty"`
}

// listQuarantine reads the files args name and prints the summary (and
// with show > 0, that many pending records).
func listQuarantine(out io.Writer, args []string, f listFilter, show int, asJSON bool) error {
	files, err := quarantineFiles(out, args)
	if err != nil {
		return &exitError{2, err}
	}
	sum := listSummary{Files: len(files)}
	groups := map[[3]string]*listGroup{}
	var shown []string
	var notes []string
	for _, path := range files {
		// Replay's progress, if it still describes this file (replay
		// refuses a file whose beginning changed since: so does list).
		var done, left lineSet
		p, err := loadProgress(path + progressSuffix)
		switch {
		case err != nil:
			notes = append(notes, fmt.Sprintf("%s: %v", path, err))
		case p != nil:
			if crc, err := prefixCRC(path, p.Bytes); err != nil || crc != p.CRC32C {
				notes = append(notes, fmt.Sprintf("%s: changed since its replay progress was recorded (replay refuses it): its records are counted as not replayed", path))
			} else {
				done, left = newLineSet(p.Replayed), newLineSet(p.Left)
			}
		}
		err = eachLine(path, func(n int, line []byte) {
			rec, err := quarantine.ParseLine(line)
			if err != nil {
				sum.Unreadable++
				return
			}
			if !f.match(&rec) {
				return
			}
			d := rec.Destination
			if d == "" {
				d = "input"
			}
			k := [3]string{d, rec.Reason, rec.Input}
			gr := groups[k]
			if gr == nil {
				gr = &listGroup{Destination: d, Reason: rec.Reason, Input: rec.Input, First: rec.Time, Last: rec.Time}
				groups[k] = gr
			}
			gr.Records++
			sum.Records++
			gr.RawBytes += int64(len(rec.Raw))
			if rec.Time.Before(gr.First) {
				gr.First = rec.Time
			}
			if rec.Time.After(gr.Last) {
				gr.Last = rec.Time
			}
			if done.has(n) {
				gr.Replayed++
				sum.Replayed++
				return
			}
			if left.has(n) {
				gr.Left++
				sum.Left++
				return
			}
			switch {
			case len(rec.Raw) == 0:
				sum.NoRaw++ // nothing to send
				return
			case rec.Input == "replay" || fromReplay(rec.Raw):
				// Rejected again during a replay: replay sends it only
				// when its reason is named.
				sum.Again++
			}
			if len(shown) < show {
				shown = append(shown, fmt.Sprintf("%s:%d %s %s/%s %s\n  detail: %s\n  raw: %s",
					path, n, rec.Time.Format(time.RFC3339), termSafe(d), termSafe(rec.Input), termSafe(rec.Reason),
					termSafe(rec.Detail), excerpt(rec.Raw, 300)))
			}
		})
		if err != nil {
			return &exitError{1, err}
		}
	}
	for _, gr := range groups {
		sum.Groups = append(sum.Groups, gr)
	}
	sort.Slice(sum.Groups, func(i, j int) bool {
		a, b := sum.Groups[i], sum.Groups[j]
		if a.Records != b.Records {
			return a.Records > b.Records
		}
		return a.Destination+a.Reason+a.Input < b.Destination+b.Reason+b.Input
	})
	sum.Notes = notes
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tREASON\tINPUT\tRECORDS\tREPLAYED\tRAW BYTES\tFIRST\tLAST")
	for _, gr := range sum.Groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", termSafe(gr.Destination), termSafe(gr.Reason), termSafe(gr.Input), gr.Records, gr.Replayed, gr.RawBytes,
			gr.First.Format(time.RFC3339), gr.Last.Format(time.RFC3339))
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "%d records in %d files, %d replayed, %d not yet", sum.Records, sum.Files, sum.Replayed, sum.Records-sum.Replayed-sum.Left-sum.NoRaw)
	if sum.Again > 0 {
		fmt.Fprintf(out, " (%d of them rejected again during a replay: sent only with --reason and theirs)", sum.Again)
	}
	if sum.Left > 0 {
		fmt.Fprintf(out, "; %d left by replay (refused even alone)", sum.Left)
	}
	if sum.NoRaw > 0 {
		fmt.Fprintf(out, "; %d without raw bytes (nothing to replay)", sum.NoRaw)
	}
	if sum.Unreadable > 0 {
		fmt.Fprintf(out, "; %d unreadable lines", sum.Unreadable)
	}
	fmt.Fprintln(out)
	for _, n := range notes {
		fmt.Fprintln(out, "note:", n)
	}
	for _, s := range shown {
		fmt.Fprintln(out, s)
	}
	return nil
}

// eachLine calls fn with each non-blank line of path and its number (from
// 1, as replay progress numbers them). An incomplete last line (a write in
// progress) is passed like any other; a line that does not parse is counted
// by the caller.
func eachLine(path string, fn func(n int, line []byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	var buf []byte
	for n := 1; ; n++ {
		var size int
		var rerr error
		buf, size, rerr = lines.Read(br, buf, maxReplayLine+1)
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("%s: %w", path, rerr)
		}
		if size <= maxReplayLine && len(bytes.TrimSpace(buf)) > 0 {
			fn(n, lines.TrimEOL(buf))
		}
		if rerr == io.EOF {
			return nil
		}
	}
}

// termSafe renders s for a terminal as excerpt renders raw bytes, whole: a
// record's detail quotes what a sender sent (an OpenSearch refusal quotes
// the refused value), so it may carry escape sequences that would rewrite
// the analyst's screen or clipboard.
func termSafe(s string) string { return excerpt([]byte(s), len(s)) }

// excerpt renders the start of raw for a terminal: at most n bytes, invalid
// UTF-8, C0 and C1 control characters (ESC, CSI, OSC...) and bidirectional
// overrides (which reorder what is shown) escaped.
func excerpt(raw []byte, n int) string {
	cut := len(raw) > n
	if cut {
		raw = raw[:n]
	}
	var b strings.Builder
	for len(raw) > 0 {
		r, size := utf8.DecodeRune(raw)
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, raw[0])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		raw = raw[size:]
	}
	if cut {
		b.WriteString("...")
	}
	return b.String()
}
