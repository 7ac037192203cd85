package config

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/starmates/logshipd/internal/ingest/file"
	"github.com/starmates/logshipd/internal/ingest/forward"
	"github.com/starmates/logshipd/internal/ingest/stdin"
	"github.com/starmates/logshipd/internal/normalize"
	"github.com/starmates/logshipd/internal/sink"
	"github.com/starmates/logshipd/internal/sink/cloudwatch"
	sinkfile "github.com/starmates/logshipd/internal/sink/file"
	"github.com/starmates/logshipd/internal/sink/loki"
)

// Source is one entry of `sources`. Name and Type are required; Service,
// Format, Environment and Timezone override the normalize section for this
// source; the remaining keys belong to the type's own Config.
type Source struct {
	Name        string
	Type        string
	Service     string
	Format      string
	Environment string
	Timezone    string
	Line        int

	Stdin   stdin.Config
	File    file.Config
	Forward forward.Config

	problems Problems
	file     string
}

var sourceCommon = map[string]bool{"name": true, "type": true, "service": true, "format": true, "environment": true, "timezone": true}

// SourceTypes lists the accepted source types.
var SourceTypes = []string{"file", "stdin", "forward"}

// UnmarshalYAML decodes the common keys and the type's own keys strictly.
func (s *Source) UnmarshalYAML(n *yaml.Node) error {
	s.Line = n.Line
	if n.Kind != yaml.MappingNode {
		s.problems = append(s.problems, Problem{Line: n.Line, Key: "sources[]", Msg: "must be a mapping"})
		return nil
	}
	s.Name, _ = scalarOf(n, "name")
	s.Type, _ = scalarOf(n, "type")
	s.Service, _ = scalarOf(n, "service")
	s.Format, _ = scalarOf(n, "format")
	s.Environment, _ = scalarOf(n, "environment")
	s.Timezone, _ = scalarOf(n, "timezone")
	path := "sources." + s.Name
	switch s.Type {
	case "stdin":
		s.Stdin = stdin.DefaultConfig()
		s.problems = append(s.problems, decodeTyped(n, &s.Stdin, sourceCommon, path)...)
	case "file":
		s.File = file.DefaultConfig()
		s.problems = append(s.problems, decodeTyped(n, &s.File, sourceCommon, path)...)
	case "forward":
		s.Forward = forward.DefaultConfig()
		s.problems = append(s.problems, decodeTyped(n, &s.Forward, sourceCommon, path)...)
	default:
		s.problems = append(s.problems, typeProblem(n, path, s.Type, SourceTypes))
	}
	return nil
}

// decodeTyped strictly decodes a source's or sink's own keys over the
// defaults already in cfg and validates the result.
func decodeTyped(n *yaml.Node, cfg interface{ Validate() error }, common map[string]bool, path string) Problems {
	probs := decodeStrict(n, cfg, common, "", path)
	return append(probs, validated(cfg.Validate(), "", n.Line, path)...)
}

// typeProblem reports a missing or unknown type.
func typeProblem(n *yaml.Node, path, typ string, known []string) Problem {
	if typ == "" {
		return Problem{Line: n.Line, Key: path + ".type", Msg: fmt.Sprintf("required (one of %v)", known)}
	}
	return Problem{Line: n.Line, Key: path + ".type", Msg: fmt.Sprintf("%q: unknown (one of %v)", typ, known)}
}

// NormalizeConfig returns the normalize config of this source.
func (s *Source) NormalizeConfig(base normalize.Config) normalize.Config {
	c := base
	if s.Service != "" {
		c.Service = s.Service
	}
	if s.Format != "" {
		c.Format = s.Format
	}
	if s.Environment != "" {
		c.Environment = s.Environment
	}
	if s.Timezone != "" {
		c.Timezone = s.Timezone
	}
	return c
}

// Sink is one entry of `sinks`: name, type, queue settings, and the type's
// own keys.
type Sink struct {
	Name  string
	Type  string
	Line  int
	Queue sink.QueueConfig

	File       sinkfile.Config
	Loki       loki.Config
	CloudWatch cloudwatch.Config

	problems Problems
}

var sinkCommon = map[string]bool{"name": true, "type": true, "queue": true}

// SinkTypes lists the accepted sink types.
var SinkTypes = []string{"cloudwatch", "loki", "file"}

// UnmarshalYAML decodes the common keys and the type's own keys strictly.
func (s *Sink) UnmarshalYAML(n *yaml.Node) error {
	s.Line = n.Line
	if n.Kind != yaml.MappingNode {
		s.problems = append(s.problems, Problem{Line: n.Line, Key: "sinks[]", Msg: "must be a mapping"})
		return nil
	}
	s.Name, _ = scalarOf(n, "name")
	s.Type, _ = scalarOf(n, "type")
	path := "sinks." + s.Name
	s.Queue = sink.DefaultQueueConfig()
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "queue" {
			s.problems = append(s.problems, decodeStrict(n.Content[i+1], &s.Queue, nil, "", path+".queue")...)
		}
	}
	s.problems = append(s.problems, validated(s.Queue.Validate(), "", n.Line, path)...)
	switch s.Type {
	case "file":
		s.File = sinkfile.DefaultConfig()
		s.problems = append(s.problems, decodeTyped(n, &s.File, sinkCommon, path)...)
	case "cloudwatch":
		s.CloudWatch = cloudwatch.DefaultConfig()
		s.problems = append(s.problems, decodeTyped(n, &s.CloudWatch, sinkCommon, path)...)
	case "loki":
		s.Loki = loki.DefaultConfig()
		s.problems = append(s.problems, decodeTyped(n, &s.Loki, sinkCommon, path)...)
	default:
		s.problems = append(s.problems, typeProblem(n, path, s.Type, SinkTypes))
	}
	return nil
}

// validateGraph checks sources and sinks: per-entry problems, names, and
// the per-source normalize overrides.
func (f *File) validateGraph(file string) Problems {
	var probs Problems
	seen := map[string]int{}
	for i := range f.Sources {
		s := &f.Sources[i]
		for _, p := range s.problems {
			p.File = file
			probs = append(probs, p)
		}
		if s.Name == "" {
			probs = append(probs, Problem{File: file, Line: s.Line, Key: fmt.Sprintf("sources[%d].name", i), Msg: "required"})
		} else if l, dup := seen["source:"+s.Name]; dup {
			probs = append(probs, Problem{File: file, Line: s.Line, Key: "sources." + s.Name, Msg: fmt.Sprintf("duplicate name (first at line %d)", l)})
		} else {
			seen["source:"+s.Name] = s.Line
		}
		if s.Type == "stdin" {
			// Two stdin sources would read one descriptor, each getting an
			// unpredictable share of the input.
			if l, dup := seen["stdin"]; dup {
				probs = append(probs, Problem{File: file, Line: s.Line, Key: "sources." + s.Name + ".type", Msg: fmt.Sprintf("a second stdin source (first at line %d): there is one standard input", l)})
			} else {
				seen["stdin"] = s.Line
			}
		}
		nc := s.NormalizeConfig(f.Normalize)
		if s.Format == "" && s.Timezone == "" && s.Environment == "" && s.Service == "" {
			continue // nothing overridden: the normalize section was checked already
		}
		if err := nc.Validate(); err != nil {
			probs = append(probs, validated(err, file, s.Line, "sources."+s.Name)...)
		}
	}
	for i := range f.Sinks {
		s := &f.Sinks[i]
		for _, p := range s.problems {
			p.File = file
			probs = append(probs, p)
		}
		if s.Name == "" {
			probs = append(probs, Problem{File: file, Line: s.Line, Key: fmt.Sprintf("sinks[%d].name", i), Msg: "required"})
		} else if l, dup := seen["sink:"+s.Name]; dup {
			probs = append(probs, Problem{File: file, Line: s.Line, Key: "sinks." + s.Name, Msg: fmt.Sprintf("duplicate name (first at line %d)", l)})
		} else {
			seen["sink:"+s.Name] = s.Line
		}
	}
	return probs
}

// RequireGraph reports the problems that only matter for `run`: at least
// one source and one sink.
func (f *File) RequireGraph(file string) Problems {
	var probs Problems
	if len(f.Sources) == 0 {
		probs = append(probs, Problem{File: file, Key: "sources", Msg: "at least one source is required"})
	}
	if len(f.Sinks) == 0 {
		probs = append(probs, Problem{File: file, Key: "sinks", Msg: "at least one sink is required"})
	}
	return probs
}
