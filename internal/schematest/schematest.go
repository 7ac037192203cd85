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

// Validate checks one encoded record: valid JSON (no duplicate keys at the
// top level) and valid against the schema.
func Validate(record []byte) error {
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
