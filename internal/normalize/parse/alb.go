package parse

import (
	"bytes"
	"strconv"
)

// ALBParser parses AWS Application Load Balancer access log entries (the
// space-separated format of the ALB documentation, "Access log entries"):
//
//	type time elb client:port target:port request_processing_time
//	target_processing_time response_processing_time elb_status_code
//	target_status_code received_bytes sent_bytes "request" "user_agent"
//	ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" ...
//
// Fields after domain_name (certificate, rule priority, actions, error
// reason, target lists, classification, connection trace id and any field
// AWS appends later) are optional. type is http, https, h2, grpcs, ws or
// wss and elb must start with "app/".
//
// Mapping: time → Time; client ip → Request.IP; the request line →
// Request.Method/Path/Protocol (the target is an absolute URL: the
// normalizer keeps its path); user_agent, domain_name → Request.UserAgent,
// Request.Host; elb_status_code → Response.Status; received_bytes and
// sent_bytes → Request.Size and Response.Size; the sum of the three
// processing times (when none is -1) → Request.Duration in seconds; the
// X-Ray "Root=1-xxxxxxxx-yyyy…" id → TraceID as the 32-hex W3C trace id
// (the X-Ray propagator's mapping) with the raw header in Extra
// "xray_trace_id". elb, target, target_status_code, ssl_protocol,
// actions_executed, error_reason and classification go to Extra when set.
// The message is the whole line.
//
// The summed duration and the trace id live in the parser's scratch
// buffer, valid until the next Parse: an ALBParser is not safe for
// concurrent use.
type ALBParser struct {
	scratch []byte
}

// Name implements Parser.
func (*ALBParser) Name() string { return "alb" }

var (
	albKeyType        = []byte("type")
	albKeyELB         = []byte("elb")
	albKeyTarget      = []byte("target")
	albKeyTargetState = []byte("target_status_code")
	albKeySSL         = []byte("ssl_protocol")
	albKeyXRay        = []byte("xray_trace_id")
	albKeyActions     = []byte("actions_executed")
	albKeyError       = []byte("error_reason")
	albKeyClass       = []byte("classification")
	albTypes          = [...]string{"http", "https", "h2", "grpcs", "ws", "wss"}
)

// albSeconds accepts a processing time: a decimal number or -1.
func albSeconds(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	if string(b) == "-1" {
		return -1, true
	}
	if !accessIsNum(b) {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil
}

// Parse implements Parser.
func (p *ALBParser) Parse(line []byte, f *Fields) bool {
	if len(line) < 60 || line[0] < 'g' || line[0] > 'w' {
		return false
	}
	var fld [19][]byte
	i := 0
	for n := range fld {
		v, quoted, next, ok := accessField(line, i)
		if !ok {
			if n >= 18 { // domain_name and later are optional
				break
			}
			return false
		}
		if quoted != (n == 12 || n == 13 || n == 17 || n == 18) {
			return false
		}
		fld[n], i = v, next
	}
	typeOK := false
	for _, t := range albTypes {
		if string(fld[0]) == t {
			typeOK = true
		}
	}
	if !typeOK || !bytes.HasPrefix(fld[2], []byte("app/")) {
		return false
	}
	t, n, local, ok := ISO(fld[1])
	if !ok || local || n != len(fld[1]) {
		return false
	}
	var secs [3]float64
	for k := range secs {
		if secs[k], ok = albSeconds(fld[5+k]); !ok {
			return false
		}
	}
	status := fld[8]
	if !(len(status) == 1 && status[0] == '-') && !isStatus(Num(status)) {
		return false
	}
	if !accessIsNum(fld[10]) || !accessIsNum(fld[11]) {
		return false
	}
	colon := bytes.LastIndexByte(fld[3], ':')
	if colon <= 0 {
		return false
	}

	f.Format = "alb"
	f.Time, f.HasTime = t, true
	f.Message = Str(line)
	f.Request.IP = Str(fld[3][:colon])
	if len(status) == 3 {
		f.Response.Status = Num(status)
	}
	f.Request.Size = Num(fld[10])
	f.Response.Size = Num(fld[11])
	accessRequestLine(fld[12], f)
	if ua := fld[13]; len(ua) > 0 && string(ua) != "-" {
		f.Request.UserAgent = Str(ua)
	}
	if host := fld[18]; len(host) > 0 && string(host) != "-" {
		f.Request.Host = Str(host)
	}
	if cap(p.scratch) < 64 {
		p.scratch = make([]byte, 0, 64) // duration and trace id: no reallocation in between
	}
	p.scratch = p.scratch[:0]
	if secs[0] >= 0 && secs[1] >= 0 && secs[2] >= 0 {
		p.scratch = strconv.AppendFloat(p.scratch, secs[0]+secs[1]+secs[2], 'f', -1, 64)
		f.Request.Duration = Num(p.scratch)
	}
	if root := xrayRoot(fld[17]); root != nil {
		s := len(p.scratch)
		p.scratch = append(p.scratch, root[2:10]...)
		p.scratch = append(p.scratch, root[11:]...)
		f.TraceID = Str(p.scratch[s:])
	}
	f.AddExtra(albKeyType, Str(fld[0]))
	f.AddExtra(albKeyELB, Str(fld[2]))
	albExtra(f, albKeyTarget, fld[4])
	albExtra(f, albKeyTargetState, fld[9])
	albExtra(f, albKeySSL, fld[15])
	albExtra(f, albKeyXRay, fld[17])
	// Optional fields by position after domain_name: 19 chosen_cert_arn,
	// 20 matched_rule_priority, 21 request_creation_time, 22 actions,
	// 23 redirect_url, 24 error_reason, ..., 27 classification.
	for n := 19; n <= 27; n++ {
		v, _, next, ok := accessField(line, i)
		if !ok {
			break
		}
		i = next
		switch n {
		case 22:
			albExtra(f, albKeyActions, v)
		case 24:
			albExtra(f, albKeyError, v)
		case 27:
			albExtra(f, albKeyClass, v)
		}
	}
	return true
}

func albExtra(f *Fields, key, v []byte) {
	if len(v) > 0 && string(v) != "-" {
		f.AddExtra(key, accessNumOrStr(v))
	}
}

// xrayRoot returns "1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy" from an X-Ray
// trace header ("Root=…;Parent=…;Sampled=…", fields in any order), or nil.
func xrayRoot(h []byte) []byte {
	for len(h) > 0 {
		part := h
		if sc := bytes.IndexByte(h, ';'); sc >= 0 {
			part, h = h[:sc], h[sc+1:]
		} else {
			h = nil
		}
		if bytes.HasPrefix(part, []byte("Root=")) {
			r := part[5:]
			if len(r) != 35 || r[0] != '1' || r[1] != '-' || r[10] != '-' || !allHexLower(r[2:10]) || !allHexLower(r[11:]) {
				return nil
			}
			return r
		}
	}
	return nil
}

func allHexLower(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
