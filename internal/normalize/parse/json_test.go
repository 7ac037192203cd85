package parse

import "testing"

// gjson's iterator skips any run of ':', ',' and whitespace; the parser
// checks that members are separated as JSON wants, at every level it
// walks, so a broken line is text, not a record with invented fields.
func TestJSONParserChecksSeparators(t *testing.T) {
	for line, want := range map[string]bool{
		`{"a":1,"b":"x"}`:                       true,
		`{ "a" : 1 , "b" : "x" }`:               true,
		"{\"a\":1,\n\t\"b\":{\"c\":2}}":         true,
		`{}`:                                    true,
		`{"request":{}}`:                        true,
		`{"a""b"}`:                              false,
		`{"a":1 "b":2}`:                         false,
		`{"a":1,,"b":2}`:                        false,
		`{"a"::1}`:                              false,
		`{,"a":1}`:                              false,
		`{"a":1,}`:                              false,
		`{"request":{"method""GET"}}`:           false,
		`{"request":{"method":"GET" "x":1}}`:    false,
		`{"request":{"method":"GET",}}`:         false,
		`{"msg":"ok","response":{"status"200}}`: false,
	} {
		var f Fields
		if got := (&JSONParser{}).Parse([]byte(line), &f); got != want {
			t.Errorf("Parse(%s) = %v, want %v", line, got, want)
		}
	}
}
