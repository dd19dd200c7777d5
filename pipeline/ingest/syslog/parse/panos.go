package parse

import (
	"bytes"
	"strings"
)

// panosCol names one PAN-OS CSV column ("" for FUTURE_USE); port columns
// are written as numbers.
type panosCol struct {
	name string
	port bool
}

func panosColumns(spec string) []panosCol {
	names := strings.Split(spec, ",")
	cols := make([]panosCol, len(names))
	for i, n := range names {
		if n == "FUTURE_USE" {
			n = ""
		}
		cols[i] = panosCol{name: n, port: n == "sport" || n == "dport" || n == "natsport" || n == "natdport"}
	}
	return cols
}

// Column names per log type, from the PAN-OS 10.x/11.x syslog field
// descriptions. Columns past a list are written as column_<n> (1-based);
// non-empty FUTURE_USE columns as future_use_<n>. The CONFIG log's "host"
// column is written as admin_host ("host" is the syslog host object).
const panosCommon = "FUTURE_USE,receive_time,serial,type,subtype,FUTURE_USE,generated_time"

const panosFlow = panosCommon + ",src,dst,natsrc,natdst,rule,srcuser,dstuser,app,vsys,from,to," +
	"inbound_if,outbound_if,logset,FUTURE_USE,sessionid,repeatcnt,sport,dport,natsport,natdport,flags,proto,action"

const panosThreatTail = "threatid,category,severity,direction,seqno,actionflags," +
	"srcloc,dstloc,FUTURE_USE,contenttype,pcap_id,filedigest,cloud,url_idx,user_agent,filetype,xff,referer," +
	"sender,subject,recipient,reportid,dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4," +
	"vsys_name,device_name,FUTURE_USE,src_uuid,dst_uuid,http_method,tunnelid_imsi,monitortag_imei," +
	"parent_session_id,parent_start_time,tunnel,thr_category,contentver,FUTURE_USE,assoc_id,ppid," +
	"http_headers,url_category_list,rule_uuid"

var (
	panosCommonCols  = panosColumns(panosCommon)
	panosTrafficCols = panosColumns(panosFlow + ",bytes,bytes_sent,bytes_received,packets,start,elapsed,category," +
		"FUTURE_USE,seqno,actionflags,srcloc,dstloc,FUTURE_USE,pkts_sent,pkts_received,session_end_reason," +
		"dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4,vsys_name,device_name,action_source," +
		"src_uuid,dst_uuid,tunnelid_imsi,monitortag_imei,parent_session_id,parent_start_time,tunnel," +
		"assoc_id,chunks,chunks_sent,chunks_received,rule_uuid,http2_connection,link_change_count,policy_id," +
		"link_switches,sdwan_cluster,sdwan_device_type,sdwan_cluster_type,sdwan_site,dynusergroup_name,xff_ip," +
		"src_category,src_profile,src_model,src_vendor,src_osfamily,src_osversion,src_host,src_mac," +
		"dst_category,dst_profile,dst_model,dst_vendor,dst_osfamily,dst_osversion,dst_host,dst_mac," +
		"container_id,pod_namespace,pod_name,src_edl,dst_edl,hostid,serialnumber,src_dag,dst_dag," +
		"session_owner,high_res_timestamp,nssai_sst,nssai_sd,subcategory_of_app,category_of_app," +
		"technology_of_app,risk_of_app,characteristic_of_app,container_of_app,tunneled_app,is_saas_of_app," +
		"sanctioned_state_of_app,offloaded")
	panosThreatCols = panosColumns(panosFlow + ",misc," + panosThreatTail)
	// The misc column (URL/Filename) is the URI of a url log and the file
	// name of a file, virus or WildFire log (PAN-OS syslog field
	// descriptions): named for what it holds, the profile maps it to
	// url.original or file.name, as Elastic's panw threat pipeline does.
	panosThreatURLCols  = panosColumns(panosFlow + ",url," + panosThreatTail)
	panosThreatFileCols = panosColumns(panosFlow + ",file_name," + panosThreatTail)
	panosSystemCols     = panosColumns(panosCommon + ",vsys,eventid,object,FUTURE_USE,FUTURE_USE,module,severity," +
		"opaque,seqno,actionflags,dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4,vsys_name,device_name," +
		"FUTURE_USE,FUTURE_USE,high_res_timestamp")
	// The default CONFIG format has no change details ("in custom logs
	// only; not in the default format"): a custom format that sends them
	// puts them after the high-resolution timestamp.
	panosConfigCols = panosColumns(panosCommon + ",admin_host,vsys,cmd,admin,client,result,path," +
		"seqno,actionflags,dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4,vsys_name," +
		"device_name,device_group,audit_comment,FUTURE_USE,high_res_timestamp,before_change_detail,after_change_detail")
	panosGlobalProtectCols = panosColumns(panosCommon + ",vsys,eventid,stage,auth_method,tunnel_type,srcuser," +
		"srcregion,machinename,public_ip,public_ipv6,private_ip,private_ipv6,hostid,serialnumber,client_ver," +
		"client_os,client_os_ver,repeatcnt,reason,error,opaque,status,location,login_duration,connect_method," +
		"error_code,portal,seqno,actionflags,high_res_timestamp,selection_type,response_time,priority," +
		"attempted_gateways,gateway,dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4," +
		"vsys_name,device_name,vsys_id")
)

// panosType returns the column names for a PAN-OS log type, or nil when b
// is not a PAN-OS log type.
func panosType(b []byte) []panosCol {
	switch string(b) {
	case "TRAFFIC":
		return panosTrafficCols
	case "THREAT":
		return panosThreatCols
	case "SYSTEM":
		return panosSystemCols
	case "CONFIG":
		return panosConfigCols
	case "GLOBALPROTECT":
		return panosGlobalProtectCols
	case "HIPMATCH", "CORRELATION", "USERID", "AUTH", "DECRYPTION",
		"IPTAG", "GTP", "SCTP", "TUNNEL":
		return panosCommonCols
	}
	return nil
}

// detectPANOS accepts a PAN-OS CSV log line: field 2 a date
// (yyyy/mm/dd ...), field 4 a known log type. Fields may be double-quoted
// ("" inside is a quote).
func (p *Parser) detectPANOS(b, body []byte) bool {
	c1 := bytes.IndexByte(b[:min(len(b), 24)], ',')
	if c1 < 0 || len(b) < c1+12 {
		return false
	}
	d := b[c1+1:]
	if !isDigit(d[0]) || !isDigit(d[3]) || d[4] != '/' || d[7] != '/' || !isDigit(d[9]) {
		return false
	}
	c2 := bytes.IndexByte(d, ',')
	if c2 < 0 {
		return false
	}
	d = d[c2+1:]
	c3 := bytes.IndexByte(d, ',')
	if c3 < 0 {
		return false
	}
	d = d[c3+1:]
	c4 := bytes.IndexByte(d, ',')
	if c4 < 0 {
		return false
	}
	names := panosType(d[:c4])
	if names == nil {
		return false
	}
	p.splitCSV(b)
	if string(d[:c4]) == "THREAT" && len(p.cols) > 4 {
		switch string(p.cols[4].b) { // the subtype
		case "url":
			names = panosThreatURLCols
		case "file", "virus", "wildfire", "wildfire-virus":
			names = panosThreatFileCols
		}
	}
	pl := &p.pl
	pl.format, pl.panos, pl.dataset = fmtPANOS, names, "paloalto.panos"
	return true
}

// splitCSV splits b into p.cols. A field that starts with '"' runs to the
// matching quote ("" escapes one); one whose closing quote is not followed
// by ',' or the end is taken raw up to the next comma.
func (p *Parser) splitCSV(b []byte) {
	p.cols = p.cols[:0]
	i := 0
	for {
		if i < len(b) && b[i] == '"' {
			j, esc := i+1, false
			for {
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					j = -1
					break
				}
				j += k
				if j+1 < len(b) && b[j+1] == '"' {
					esc = true
					j += 2
					continue
				}
				break
			}
			if j >= 0 && (j+1 == len(b) || b[j+1] == ',') {
				p.cols = append(p.cols, span{b: b[i+1 : j], esc: esc})
				i = j + 1
			} else {
				k := bytes.IndexByte(b[i+1:], ',')
				if k < 0 {
					k = len(b) - i - 1
				}
				p.cols = append(p.cols, span{b: b[i : i+1+k]})
				i += 1 + k
			}
		} else {
			k := bytes.IndexByte(b[i:], ',')
			if k < 0 {
				k = len(b) - i
			}
			p.cols = append(p.cols, span{b: b[i : i+k]})
			i += k
		}
		if i >= len(b) {
			return
		}
		i++ // ','
	}
}

// unescapeCSV resolves "" into p.scratch.
func (p *Parser) unescapeCSV(v []byte) []byte {
	s := p.scratch[:0]
	for i := 0; i < len(v); i++ {
		s = append(s, v[i])
		if v[i] == '"' && i+1 < len(v) && v[i+1] == '"' {
			i++
		}
	}
	p.scratch = s
	return s
}

// zonedISO reports whether v is an RFC 3339 time with its zone
// ("2023-10-04T18:54:25.443+08:00"), as PAN-OS writes its High Resolution
// Timestamp.
func zonedISO(v []byte) bool {
	if len(v) < 20 || len(v) > 40 || !isDigit(v[0]) || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' {
		return false
	}
	return isoHasZone(v)
}

// appendPANOS writes each non-empty column as a top-level field.
func (p *Parser) appendPANOS(dst []byte) []byte {
	names := p.pl.panos
	hires := false // a column named high_res_timestamp was written
	for _, c := range names {
		hires = hires || c.name == "high_res_timestamp"
	}
	for k, c := range p.cols {
		v := c.b
		if len(v) == 0 {
			continue
		}
		if c.esc {
			v = p.unescapeCSV(v)
		}
		port := false
		switch {
		case k < len(names) && names[k].name != "":
			dst = append(dst, '"')
			dst = append(dst, names[k].name...)
			port = names[k].port
		case k < len(names):
			dst = append(dst, `"future_use_`...)
			dst = appendInt(dst, k+1)
		case !hires && zonedISO(v):
			// Past the columns known for this type and version (THREAT
			// and the others of PAN-OS 10.x and later), the High
			// Resolution Timestamp is the only ISO time with a zone:
			// named as the profile reads it, the event's exact time.
			hires = true
			dst = append(dst, `"high_res_timestamp`...)
		default:
			dst = append(dst, `"column_`...)
			dst = appendInt(dst, k+1)
		}
		dst = append(dst, `":`...)
		if port && isPort(v) {
			dst = append(dst, v...)
		} else {
			dst = appendStr(dst, v)
		}
		dst = append(dst, ',')
	}
	return dst
}
