package parse

import "testing"

func accessBench(b *testing.B, p Parser, line string, want bool) {
	l := []byte(line)
	var f Fields
	f.Extra = make([]KV, 0, 16)
	if p.Parse(l, &f) != want {
		b.Fatalf("%s: Parse(%q) != %v", p.Name(), line, want)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(l)))
	if !want {
		// A rejecting parser writes nothing: measure the rejection alone.
		for b.Loop() {
			p.Parse(l, &f)
		}
		return
	}
	for b.Loop() {
		f.Reset() // part of the per-line cost (~25 ns for the large Fields)
		p.Parse(l, &f)
	}
}

// BenchmarkAccessParse is the reference: a 190-byte nginx combined line.
func BenchmarkAccessParse(b *testing.B) { accessBench(b, &AccessParser{}, accessLineNginx1, true) }

func BenchmarkAccessParseTimed(b *testing.B) {
	accessBench(b, &AccessParser{}, accessLineTimed, true)
}

func BenchmarkAccessParseMalformed(b *testing.B) {
	accessBench(b, &AccessParser{}, accessLineTLS, true)
}

func BenchmarkAccessReject(b *testing.B) {
	accessBench(b, &AccessParser{}, accessForeignLines[0].line, false)
}

func BenchmarkAccessRejectPython(b *testing.B) {
	accessBench(b, &AccessParser{}, accessForeignLines[2].line, false)
}

func BenchmarkNginxErrorParse(b *testing.B) {
	accessBench(b, &NginxErrorParser{}, errlogLineNginx10, true)
}

func BenchmarkNginxErrorReject(b *testing.B) {
	accessBench(b, &NginxErrorParser{}, accessForeignLines[4].line, false)
}

func BenchmarkApacheErrorParse(b *testing.B) {
	accessBench(b, &ApacheErrorParser{}, errlogLineApache24, true)
}

func BenchmarkApacheErrorReject(b *testing.B) {
	accessBench(b, &ApacheErrorParser{}, accessLineNginx1, false)
}

func BenchmarkUvicornAccessParse(b *testing.B) {
	accessBench(b, &UvicornAccessParser{}, uviLineAccess, true)
}

func BenchmarkUvicornAccessReject(b *testing.B) {
	accessBench(b, &UvicornAccessParser{}, uviLineStarted, false)
}

func BenchmarkUvicornParse(b *testing.B) { accessBench(b, &UvicornParser{}, uviLineStarted, true) }

func BenchmarkUvicornReject(b *testing.B) {
	accessBench(b, &UvicornParser{}, accessLineNginx1, false)
}

func BenchmarkSyslog5424Parse(b *testing.B) {
	accessBench(b, &Syslog5424Parser{}, syslogLine5424c, true)
}

func BenchmarkSyslog5424ParseEscapes(b *testing.B) {
	accessBench(b, &Syslog5424Parser{}, syslogLine5424e, true)
}

func BenchmarkSyslog3164Parse(b *testing.B) {
	accessBench(b, &Syslog3164Parser{}, syslogLine3164b, true)
}

func BenchmarkSyslog3164Reject(b *testing.B) {
	accessBench(b, &Syslog3164Parser{}, accessForeignLines[1].line, false)
}
