// Package schematest validates records against schemas/log-record.schema.json
// with a real JSON Schema 2020-12 validator. For tests only.
//
// Validate takes one encoded record and returns nil, or an error that says
// why: the record is not valid JSON (json.Valid), or it violates the schema
// (the validator's error, followed by the first 500 bytes of the record).
// Numbers are decoded as json.Number, so no precision is lost before the
// schema's numeric checks.
//
// The schema is the one embedded by package schemas; it is compiled once,
// on the first call, and a compile error is returned by every later call.
// Validate is safe for concurrent use.
//
// Duplicate object keys, at any depth, are an error: json.Valid and the
// decoder accept them (the last value wins), so a token walk looks for
// them first.
package schematest
