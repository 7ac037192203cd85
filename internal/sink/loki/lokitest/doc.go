// Package lokitest holds the test servers of the Loki sink: FakeLoki, an
// httptest server that decodes snappy-compressed protobuf pushes with
// Loki's own push types, and VictoriaLogs, a real victoria-logs process
// (which accepts the Loki push protocol) started from a test.
//
// FakeLoki (NewFakeLoki, plain HTTP or TLS) records every request it
// receives, whatever the method or path, as a Push in arrival order: path,
// headers, query, body sizes and the decoded push.PushRequest. A request
// whose Content-Type is not application/x-protobuf, or whose body is not a
// snappy block holding a valid push, is recorded with DecodeErr and answered
// 400; any other request is answered by the Responder (204 when it is nil
// or returns Status 0). The Responder runs on the server's handler
// goroutines, outside FakeLoki's lock, possibly concurrently; SetResponder
// replaces it at any time. Pushes returns a copy of the list, but the Push
// values are shared: treat them as read-only. JSON pushes are not
// supported. The server is closed by t.Cleanup.
//
// VictoriaLogs runs only in integration tests: RequireIntegration skips the
// test unless LOGSHIPD_INTEGRATION=1, and StartVictoriaLogs fails it when
// the binary is missing (LOGSHIPD_VICTORIALOGS_BIN, default
// <module root>/.cache/tools/bin/victoria-logs). The process listens on a
// free loopback port with its storage in t.TempDir(), is ready once
// /insert/loki/ready answers 200 (30 s at most), and is stopped by
// t.Cleanup (SIGINT, then a kill after 30 s), with the tail of its output
// logged when the test failed. Stop and Restart (same address and storage)
// may be called from any goroutine. Query and Count use the LogsQL HTTP
// API, for a tenant given as "account:project" ("" for the default one);
// rows become searchable a moment after ingestion, so tests should use
// WaitCount or WaitQuery, which poll every 200 ms until a count or a
// timeout is reached.
package lokitest
