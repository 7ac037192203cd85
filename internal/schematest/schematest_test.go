package schematest

import "testing"

func TestNoDuplicateKeys(t *testing.T) {
	for doc, dup := range map[string]bool{
		`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`: false,
		`{"a":1,"a":2}`:                     true,
		`{"x":{"k":"v","k":"w"}}`:           true,
		`{"x":[{"k":1,"j":{"k":2},"k":3}]}`: true,
		`{"a":"a","b":"a"}`:                 false,
		`{"a":["a","a"],"b":[]}`:            false,
	} {
		err := noDuplicateKeys([]byte(doc))
		if (err != nil) != dup {
			t.Errorf("%s: err %v, want duplicate=%v", doc, err, dup)
		}
	}
}
