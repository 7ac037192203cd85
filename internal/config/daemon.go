package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong in a config file, located.
type Problem struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (p Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, p.Key, p.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, p.Msg)
}

// Problems is every problem found in one file.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

// yamlKeys lists the yaml keys a struct type accepts (following inline
// fields), for strict checking of entries decoded from nodes.
func yamlKeys(t reflect.Type, into map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			yamlKeys(f.Type, into)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		into[name] = true
	}
}

// decodeStrict decodes a mapping node into out, reporting unknown keys
// (with their lines) instead of ignoring them. skip lists keys handled by
// the caller.
func decodeStrict(n *yaml.Node, out any, skip map[string]bool, file, path string) Problems {
	if n.Kind != yaml.MappingNode {
		return Problems{{File: file, Line: n.Line, Key: path, Msg: "must be a mapping"}}
	}
	known := map[string]bool{}
	yamlKeys(reflect.TypeOf(out), known)
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line}
	var probs Problems
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if skip[k.Value] {
			continue
		}
		if !known[k.Value] {
			keys := make([]string, 0, len(known)+len(skip))
			for kk := range known {
				keys = append(keys, kk)
			}
			for kk := range skip {
				keys = append(keys, kk)
			}
			sort.Strings(keys)
			probs = append(probs, Problem{File: file, Line: k.Line, Key: path + "." + k.Value, Msg: "unknown key (known: " + strings.Join(keys, ", ") + ")"})
			continue
		}
		rest.Content = append(rest.Content, k, n.Content[i+1])
	}
	if err := rest.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				probs = append(probs, Problem{File: file, Key: path, Msg: e})
			}
		} else {
			probs = append(probs, Problem{File: file, Line: n.Line, Key: path, Msg: err.Error()})
		}
	}
	return probs
}

// scalarOf returns the value of key in a mapping node.
func scalarOf(n *yaml.Node, key string) (string, int) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value, n.Content[i+1].Line
		}
	}
	return "", n.Line
}

// validated wraps a Validate error (possibly joined) into located problems.
func validated(err error, file string, line int, path string) Problems {
	if err == nil {
		return nil
	}
	var out Problems
	for _, msg := range strings.Split(err.Error(), "\n") {
		out = append(out, Problem{File: file, Line: line, Key: path, Msg: msg})
	}
	return out
}
