// Package schemas embeds the JSON Schemas that define logshipd's output.
// schemas/log-record.schema.json is the single source of truth for the
// canonical record; tests validate every record they produce against it.
package schemas

import _ "embed"

// LogRecord is the JSON Schema (2020-12) of the canonical record.
//
//go:embed log-record.schema.json
var LogRecord []byte
