package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/starmates/logshipd/schemas"
)

var (
	once     sync.Once
	compiled *jsonschema.Schema
	errComp  error
)

func schema() (*jsonschema.Schema, error) {
	once.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.LogRecord))
		if err != nil {
			errComp = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("log-record.schema.json", doc); err != nil {
			errComp = err
			return
		}
		compiled, errComp = c.Compile("log-record.schema.json")
	})
	return compiled, errComp
}

// DuplicateKeyError reports a key repeated within one object.
type DuplicateKeyError struct{ Key string }

func (e *DuplicateKeyError) Error() string { return fmt.Sprintf("duplicate key %q", e.Key) }

// Validate checks one encoded record: valid JSON without duplicate keys
// (in any object; a *DuplicateKeyError, wrapped) and valid against the
// schema.
func Validate(record []byte) error {
	if !json.Valid(record) {
		return fmt.Errorf("not valid JSON: %.200q", record)
	}
	if err := noDuplicateKeys(record); err != nil {
		return fmt.Errorf("%w\nrecord: %.500s", err, record)
	}
	return ValidateSchema(record)
}

// ValidateSchema is Validate without the duplicate-key check, for records
// that carry an input's own object verbatim (a nested value passed through
// under attrs keeps whatever keys the input repeated).
func ValidateSchema(record []byte) error {
	s, err := schema()
	if err != nil {
		return fmt.Errorf("compile schema: %w", err)
	}
	if !json.Valid(record) {
		return fmt.Errorf("not valid JSON: %.200q", record)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(record))
	if err != nil {
		return err
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("%w\nrecord: %.500s", err, record)
	}
	return nil
}

// noDuplicateKeys walks the tokens of a valid JSON document and reports the
// first key repeated within one object (CloudWatch Logs Insights and most
// JSON readers keep only one of them: data would be lost silently).
func noDuplicateKeys(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	type level struct {
		keys   map[string]bool
		object bool
		expect bool // the next string token is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // end of the (valid) document
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.object {
					top.expect = true // the container was this key's value
				}
				stack = append(stack, &level{keys: map[string]bool{}, object: v == '{', expect: v == '{'})
			case '}', ']':
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].expect = true
				}
			}
		case string:
			if top != nil && top.object && top.expect {
				if top.keys[v] {
					return &DuplicateKeyError{Key: v}
				}
				top.keys[v] = true
				top.expect = false
				continue
			}
			if top != nil && top.object {
				top.expect = true
			}
		default:
			if top != nil && top.object {
				top.expect = true
			}
		}
	}
}
