package parse

import "bytes"

// Snare for Windows columns (tab-separated, after "MSWinEventLog").
const (
	snCriticality = 1 + iota
	snChannel
	snCounter
	snTime
	snEventID
	snProvider
	snUser
	snSIDType
	snEventLogType
	snComputer
	snCategory
	snData
	snExpanded
	snChecksum
)

// parseSnare parses Snare's "MSWinEventLog<TAB>criticality<TAB>log name
// <TAB>counter<TAB>time<TAB>event id<TAB>source<TAB>user<TAB>SID type<TAB>
// event type<TAB>computer<TAB>category<TAB>data<TAB>expanded string
// [<TAB>checksum...]". The expanded string (else the data string) is the
// message; the time (no zone: Options.Location) becomes the timestamp; the
// Security log gets dataset windows.security.
func (p *Parser) parseSnare(b []byte) bool {
	p.cols = p.cols[:0]
	for {
		j := bytes.IndexByte(b, '\t')
		if j < 0 {
			p.cols = append(p.cols, span{b: b})
			break
		}
		p.cols = append(p.cols, span{b: b[:j]})
		b = b[j+1:]
	}
	if len(p.cols) <= snEventID {
		return false
	}
	pl := &p.pl
	pl.format = fmtSnare
	// DateTime is the host's wall clock, without a zone: it replaces only
	// a header time without a zone of its own, as FortiGate's date/time
	// without tz does (an RFC 5424 header's offset makes it exact).
	if !p.h.hasTime || !p.h.zoned {
		if ns, ok := p.wallTime(p.cols[snTime].b, false, true); ok {
			pl.hasTime, pl.ns = true, ns
		}
	}
	if equalFold(p.cols[snChannel].b, "security") {
		pl.dataset = "windows.security"
	}
	switch {
	case len(p.col(snExpanded)) > 0:
		pl.message = p.col(snExpanded)
	case len(p.col(snData)) > 0:
		pl.message = p.col(snData)
	}
	return true
}

// col returns column k of p.cols, or nil.
func (p *Parser) col(k int) []byte {
	if k < len(p.cols) {
		return p.cols[k].b
	}
	return nil
}

// appendSnare writes "winlog":{...},"snare":{...}, with what is not empty.
func (p *Parser) appendSnare(dst []byte) []byte {
	mark := len(dst)
	dst = append(dst, `"winlog":{`...)
	first := true
	dst = appendField(dst, &first, "channel", p.col(snChannel))
	dst = appendField(dst, &first, "event_id", p.col(snEventID))
	dst = appendField(dst, &first, "provider_name", p.col(snProvider))
	dst = appendField(dst, &first, "computer_name", p.col(snComputer))
	dst = appendField(dst, &first, "task", p.col(snCategory))
	if u := p.col(snUser); len(u) > 0 {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `"user":{`...)
		f := true
		dst = appendField(dst, &f, "name", u)
		dst = append(dst, '}')
	}
	if first {
		dst = dst[:mark]
	} else {
		dst = append(dst, "},"...)
	}

	mark = len(dst)
	dst = append(dst, `"snare":{`...)
	first = true
	dst = appendField(dst, &first, "criticality", p.col(snCriticality))
	dst = appendField(dst, &first, "counter", p.col(snCounter))
	dst = appendField(dst, &first, "time", p.col(snTime))
	dst = appendField(dst, &first, "sid_type", p.col(snSIDType))
	dst = appendField(dst, &first, "event_log_type", p.col(snEventLogType))
	if len(p.col(snExpanded)) > 0 {
		dst = appendField(dst, &first, "data", p.col(snData))
	}
	dst = appendField(dst, &first, "checksum", p.col(snChecksum))
	for k := snChecksum + 1; k < len(p.cols); k++ {
		if v := p.cols[k].b; len(v) > 0 {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, `"column_`...)
			dst = appendInt(dst, k+1)
			dst = append(dst, `":`...)
			dst = appendStr(dst, v)
		}
	}
	if first {
		return dst[:mark]
	}
	return append(dst, "},"...)
}
