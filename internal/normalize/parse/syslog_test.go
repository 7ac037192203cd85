package parse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	syslogLine5424a = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8"
	syslogLine5424b = `<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.`
	syslogLine5424c = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xef\xbb\xbfAn application event log entry..."
	syslogLine5424d = `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`
	syslogLine5424e = `<78>1 - - - - - [meta@1 q="say \"hi\"" path="C:\\dir" br="a\]b" other="x\y" empty=""] msg`
	syslogLine3164a = `<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`
	syslogLine3164b = `Nov 25 21:43:45 web-1 sshd[1042]: Accepted publickey for deploy from 192.0.2.4 port 50122 ssh2`
	syslogLine3164c = `2026-11-25T21:43:45.123456+00:00 web-1 app[12]: msg`
)

func TestSyslog5424Parser(t *testing.T) {
	accessRun(t, &Syslog5424Parser{}, []accessCase{
		{name: "RFC example 1 (no SD, BOM)", line: syslogLine5424a, want: map[string]string{
			"format": "syslog-rfc5424", "time": "2003-10-11T22:14:15.003Z", "level": "crit", "level_num": "2", "level_scheme": "2",
			"x.facility": "auth", "host": "mymachine.example.com", "logger": "su", "x.appname": "su", "x.msgid": "ID47",
			"message": "'su root' failed for lonvick on /dev/pts/8",
		}},
		{name: "RFC example 2 (offset, procid, no msgid)", line: syslogLine5424b, want: map[string]string{
			"format": "syslog-rfc5424", "time": "2003-08-24T12:14:15.000003Z", "level": "notice", "level_num": "5", "level_scheme": "2",
			"x.facility": "local4", "host": "192.0.2.1", "logger": "myproc", "x.appname": "myproc", "x.procid#": "8710",
			"message": "%% It's time to make the do-nuts.",
		}},
		{name: "RFC example 3 (SD)", line: syslogLine5424c, want: map[string]string{
			"format": "syslog-rfc5424", "time": "2003-10-11T22:14:15.003Z", "level": "notice", "level_num": "5", "level_scheme": "2",
			"x.facility": "local4", "host": "mymachine.example.com", "logger": "evntslog", "x.appname": "evntslog", "x.msgid": "ID47",
			"x.exampleSDID@32473.iut": "3", "x.exampleSDID@32473.eventSource": "Application", "x.exampleSDID@32473.eventID": "1011",
			"message": "An application event log entry...",
		}},
		{name: "RFC example 4 (two SD elements, no MSG)", line: syslogLine5424d, want: map[string]string{
			"format": "syslog-rfc5424", "time": "2003-10-11T22:14:15.003Z", "level": "notice", "level_num": "5", "level_scheme": "2",
			"x.facility": "local4", "host": "mymachine.example.com", "logger": "evntslog", "x.appname": "evntslog", "x.msgid": "ID47",
			"x.exampleSDID@32473.iut": "3", "x.exampleSDID@32473.eventSource": "Application", "x.exampleSDID@32473.eventID": "1011",
			"x.examplePriority@32473.class": "high",
		}},
		{name: "NILVALUEs and SD escapes", line: syslogLine5424e, want: map[string]string{
			"format": "syslog-rfc5424", "level": "info", "level_num": "6", "level_scheme": "2", "x.facility": "cron",
			"x.meta@1.q": `say "hi"`, "x.meta@1.path": `C:\dir`, "x.meta@1.br": "a]b", "x.meta@1.other": `x\y`, "x.meta@1.empty": "",
			"message": "msg",
		}},
		{name: "SD id without params, empty MSG", line: `<0>1 2026-11-25T21:43:45+01:00 h a p m [origin] `, want: map[string]string{
			"format": "syslog-rfc5424", "time": "2026-11-25T20:43:45Z", "level": "emerg", "level_num": "0", "level_scheme": "2",
			"x.facility": "kern", "host": "h", "logger": "a", "x.appname": "a", "x.procid": "p", "x.msgid": "m", "message": "",
		}},
		{name: "debug local7", line: `<191>1 2026-11-25T21:43:45.5Z host app 123 - - x`, want: map[string]string{
			"format": "syslog-rfc5424", "time": "2026-11-25T21:43:45.5Z", "level": "debug", "level_num": "7", "level_scheme": "2",
			"x.facility": "local7", "host": "host", "logger": "app", "x.appname": "app", "x.procid#": "123", "message": "x",
		}},
		{name: "reject PRI over 191", line: `<192>1 2026-11-25T21:43:45Z h a p m - x`},
		{name: "reject version 0", line: `<34>0 2026-11-25T21:43:45Z h a p m - x`},
		{name: "reject missing SD", line: `<34>1 2026-11-25T21:43:45Z h a p m`},
		{name: "reject bad SD", line: `<34>1 2026-11-25T21:43:45Z h a p m [id x=1] msg`},
		{name: "reject unterminated SD", line: `<34>1 2026-11-25T21:43:45Z h a p m [id x="1"`},
		{name: "reject SD glued to MSG", line: `<34>1 2026-11-25T21:43:45Z h a p m [id x="1"]msg`},
		{name: "reject space date separator", line: `<34>1 2026-11-25 21:43:45Z h a p m - msg`},
		{name: "reject 3164", line: syslogLine3164a},
		{name: "reject 3164 no PRI", line: syslogLine3164b},
		{name: "reject nginx access", line: accessLineNginx1},
		{name: "reject uvicorn", line: uviLineStarted},
	})
	accessRun(t, &Syslog5424Parser{}, accessForeignLines)
}

func TestSyslog5424ScratchReuse(t *testing.T) {
	p := &Syslog5424Parser{}
	var f Fields
	require.True(t, p.Parse([]byte(syslogLine5424e), &f))
	require.Equal(t, `say "hi"`, string(f.Extra[1].Val.B))
	f.Reset()
	require.True(t, p.Parse([]byte(syslogLine5424c), &f))
	require.Equal(t, "exampleSDID@32473.iut", string(f.Extra[3].Key))
	f.Reset()
	require.False(t, p.Parse([]byte(`<34>1 - h a p m [x y="1"`), &f))
	require.Empty(t, f.Extra, "a rejected line must leave f untouched")
}

func TestSyslog3164Parser(t *testing.T) {
	accessRun(t, &Syslog3164Parser{}, []accessCase{
		{name: "RFC 3164 example", line: syslogLine3164a, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-10-11T22:14:15Z", "time_local": "true", "time_noyear": "true",
			"level": "crit", "level_num": "2", "level_scheme": "2", "x.facility": "auth",
			"host": "mymachine", "logger": "su", "message": "'su root' failed for lonvick on /dev/pts/8",
		}},
		{name: "with PRI and pid", line: `<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8`, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-10-11T22:14:15Z", "time_local": "true", "time_noyear": "true",
			"level": "crit", "level_num": "2", "level_scheme": "2", "x.facility": "auth",
			"host": "mymachine", "logger": "su", "x.pid#": "123", "message": "'su root' failed for lonvick on /dev/pts/8",
		}},
		{name: "/var/log/syslog without PRI", line: syslogLine3164b, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-11-25T21:43:45Z", "time_local": "true", "time_noyear": "true",
			"host": "web-1", "logger": "sshd", "x.pid#": "1042", "message": "Accepted publickey for deploy from 192.0.2.4 port 50122 ssh2",
		}},
		{name: "space padded single digit day", line: `Oct  1 02:03:04 host CRON[99]: (root) CMD (run-parts /etc/cron.hourly)`, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-10-01T02:03:04Z", "time_local": "true", "time_noyear": "true",
			"host": "host", "logger": "CRON", "x.pid#": "99", "message": "(root) CMD (run-parts /etc/cron.hourly)",
		}},
		{name: "unpadded single digit day", line: `Oct 1 02:03:04 host kernel: [    0.000000] Linux version 6.1.0`, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-10-01T02:03:04Z", "time_local": "true", "time_noyear": "true",
			"host": "host", "logger": "kernel", "message": "[    0.000000] Linux version 6.1.0",
		}},
		{name: "postfix tag with slash", line: `Nov 25 21:43:45 mail postfix/smtpd[1234]: connect from unknown[192.0.2.1]`, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-11-25T21:43:45Z", "time_local": "true", "time_noyear": "true",
			"host": "mail", "logger": "postfix/smtpd", "x.pid#": "1234", "message": "connect from unknown[192.0.2.1]",
		}},
		{name: "rsyslog high precision", line: syslogLine3164c, want: map[string]string{
			"format": "syslog-rfc3164", "time": "2026-11-25T21:43:45.123456Z",
			"host": "web-1", "logger": "app", "x.pid#": "12", "message": "msg",
		}},
		{name: "rsyslog high precision with offset and PRI", line: `<30>2026-11-25T22:43:45+01:00 web-1 systemd[1]: Started Session 3 of user root.`, want: map[string]string{
			"format": "syslog-rfc3164", "time": "2026-11-25T21:43:45Z",
			"level": "info", "level_num": "6", "level_scheme": "2", "x.facility": "daemon",
			"host": "web-1", "logger": "systemd", "x.pid#": "1", "message": "Started Session 3 of user root.",
		}},
		{name: "PRI without hostname (/dev/log)", line: `<13>Oct 11 22:14:15 myapp[4242]: hello`, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-10-11T22:14:15Z", "time_local": "true", "time_noyear": "true",
			"level": "notice", "level_num": "5", "level_scheme": "2", "x.facility": "user",
			"logger": "myapp", "x.pid#": "4242", "message": "hello",
		}},
		{name: "empty content", line: `Nov 25 21:43:45 host app:`, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-11-25T21:43:45Z", "time_local": "true", "time_noyear": "true",
			"host": "host", "logger": "app", "message": "",
		}},
		{name: "kern emerg PRI 0", line: `<0>Nov 25 21:43:45 host kernel: panic`, want: map[string]string{
			"format": "syslog-rfc3164", "time": "0000-11-25T21:43:45Z", "time_local": "true", "time_noyear": "true",
			"level": "emerg", "level_num": "0", "level_scheme": "2", "x.facility": "kern",
			"host": "host", "logger": "kernel", "message": "panic",
		}},
		{name: "reject RFC 3164 example without TAG", line: `<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!`},
		{name: "reject plain text month", line: `Jan is a nice month`},
		{name: "reject month text with time but no tag", line: `Jan 12 12:00:00 the deploy went fine`},
		{name: "reject no host without PRI", line: `Nov 25 21:43:45 note: something`},
		{name: "reject ISO without zone", line: `2026-11-25T21:43:45 host app[1]: msg`},
		{name: "reject python asctime", line: `2024-01-01 12:00:00,123 host app: msg`},
		{name: "reject 5424", line: syslogLine5424c},
		{name: "reject nginx error", line: errlogLineNginx7},
		{name: "reject nginx access", line: accessLineNginx1},
		{name: "reject apache error", line: errlogLineApache22},
		{name: "reject uvicorn", line: uviLineError},
	})
	accessRun(t, &Syslog3164Parser{}, accessForeignLines)
}
