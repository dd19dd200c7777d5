package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

func statsCmd() *cobra.Command {
	var admin string
	var asJSON bool
	c := &cobra.Command{
		Use:   "stats",
		Short: "Print the conservation ledger of a running router (where every event went)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := http.Get(strings.TrimRight(admin, "/") + "/admin/stats")
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
	c.Flags().StringVar(&admin, "admin", "http://127.0.0.1:8686", "the router's admin listener")
	c.Flags().BoolVar(&asJSON, "json", false, "print the raw JSON")
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
	fmt.Fprintln(out, "\nRefused events were not acknowledged: their senders retry them. Deduplicated events are part of accepted:")
	fmt.Fprintln(out, "acknowledged, not delivered again. IN MOTION is non-zero only while a delivery is being booked.")
}

func quarantineCmd() *cobra.Command {
	c := &cobra.Command{Use: "quarantine", Short: "Inspect and replay quarantined records"}
	var admin, dest, reason string
	var dryRun bool
	replay := &cobra.Command{
		Use:   "replay [FILE|DIR ...]",
		Short: "Re-send quarantined records to a running router once the cause is fixed",
		Long: `Reads quarantine files (default: ./data/quarantine, recursively) and sends their
records to the router's admin listener. Records a destination refused go back
to that destination only; records rejected at input go through the whole
pipeline again (one line, one event). A file whose records were all replayed
is renamed to *.replayed so it is not sent twice (files written to in the last
two minutes are left in place).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"./data/quarantine"}
			}
			return replayQuarantine(cmd.OutOrStdout(), admin, args, dest, reason, dryRun)
		},
	}
	replay.Flags().StringVar(&admin, "admin", "http://127.0.0.1:8686", "the router's admin listener")
	replay.Flags().StringVar(&dest, "destination", "", "only records refused by this destination (\"input\" for input rejections)")
	replay.Flags().StringVar(&reason, "reason", "", "only records with this reason")
	replay.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be replayed, send nothing")
	c.AddCommand(replay)
	return c
}

func quarantineFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
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

func replayQuarantine(out io.Writer, admin string, args []string, dest, reason string, dryRun bool) error {
	files, err := quarantineFiles(args)
	if err != nil {
		return err
	}
	total, sentTotal := 0, 0
	for _, f := range files {
		groups := map[string][][]byte{}
		all, selected := 0, 0
		err := quarantine.ReadFile(f, func(r quarantine.Record) error {
			all++
			d := r.Destination
			if d == "" {
				d = "input"
			}
			if (dest != "" && d != dest) || (reason != "" && r.Reason != reason) || len(r.Raw) == 0 {
				return nil
			}
			selected++
			groups[d] = append(groups[d], r.Raw)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		total += selected
		if selected == 0 {
			continue
		}
		if dryRun {
			fmt.Fprintf(out, "%s: would replay %d of %d records\n", f, selected, all)
			continue
		}
		for d, recs := range groups {
			n, err := postReplay(admin, d, recs)
			sentTotal += n
			if err != nil {
				return fmt.Errorf("%s: replay to %s: %w (%d records of this file were sent before the error)", f, d, err, n)
			}
		}
		fmt.Fprintf(out, "%s: replayed %d of %d records\n", f, selected, all)
		if st, err := os.Stat(f); err == nil && selected == all && time.Since(st.ModTime()) > 2*time.Minute {
			if err := os.Rename(f, f+".replayed"); err == nil {
				fmt.Fprintf(out, "%s: renamed to %s.replayed\n", f, filepath.Base(f))
			}
		}
	}
	fmt.Fprintf(out, "%d records selected, %d replayed\n", total, sentTotal)
	return nil
}

// postReplay sends records in chunks; it returns how many were accepted.
func postReplay(admin, dest string, recs [][]byte) (int, error) {
	target := strings.TrimRight(admin, "/") + "/admin/replay"
	if dest != "input" {
		target += "?destination=" + url.QueryEscape(dest)
	}
	sent := 0
	for len(recs) > 0 {
		n := min(len(recs), 1000)
		var body bytes.Buffer
		for _, r := range recs[:n] {
			// A record holding several lines (a quarantined NDJSON body)
			// replays as several events, which is what it held.
			body.Write(r)
			body.WriteByte('\n')
		}
		res, err := http.Post(target, "application/x-ndjson", &body)
		if err != nil {
			return sent, err
		}
		msg, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return sent, fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(msg)))
		}
		sent += n
		recs = recs[n:]
	}
	return sent, nil
}
