package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// A small evaluator for the Terraform code under infra/: enough of
// Terraform's language (variables with defaults, locals, resource and data
// references, for_each with each.key/each.value, the functions the code
// uses) to compute the task definitions' container JSON, the IAM policies
// and the SSM parameter values without Terraform or AWS. Resource and data
// attributes are placeholders "TYPE.NAME.ATTR", so a test can check which
// resource an ARN comes from.

// tfTestVars are the values of the variables without a default.
var tfTestVars = map[string]cty.Value{
	"environment":    cty.StringVal("prod"),
	"logshipd_image": cty.StringVal("123456789012.dkr.ecr.eu-west-1.amazonaws.com/logshipd:v1.4.2@sha256:" + strings.Repeat("ab", 32)),
	"service_images": cty.MapVal(map[string]cty.Value{
		"api-gateway":     cty.StringVal("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api-gateway:v3.1.0@sha256:" + strings.Repeat("01", 32)),
		"workflow-agent":  cty.StringVal("123456789012.dkr.ecr.eu-west-1.amazonaws.com/workflow-agent:v3.1.0@sha256:" + strings.Repeat("02", 32)),
		"workflow-engine": cty.StringVal("123456789012.dkr.ecr.eu-west-1.amazonaws.com/workflow-engine:v3.1.0@sha256:" + strings.Repeat("03", 32)),
	}),
	"ecs_cluster_arn":         cty.StringVal("arn:aws:ecs:eu-west-1:123456789012:cluster/starmates"),
	"subnet_ids":              cty.ListVal([]cty.Value{cty.StringVal("subnet-0a"), cty.StringVal("subnet-0b")}),
	"security_group_ids":      cty.ListVal([]cty.Value{cty.StringVal("sg-0a")}),
	"grafana_cloud_loki_url":  cty.StringVal("https://logs-prod-000.grafana.net"),
	"grafana_cloud_loki_user": cty.StringVal("000000"),
	"grafana_cloud_api_key":   cty.StringVal("test-token-not-a-secret"),
}

const tfAccountID = "123456789012"

type tfBlock struct {
	file  string
	block *hclsyntax.Block
}

type tfModule struct {
	files     map[string][]byte // file name -> source
	variables map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	resources map[string]map[string]tfBlock // type -> name -> block
	data      map[string]map[string]tfBlock
	others    []tfBlock // terraform, provider, output

	vars   map[string]cty.Value
	values map[string]cty.Value // evaluated locals
}

func loadTF(t *testing.T) *tfModule {
	t.Helper()
	m := &tfModule{files: map[string][]byte{}, variables: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{},
		resources: map[string]map[string]tfBlock{}, data: map[string]map[string]tfBlock{}}
	names, err := filepath.Glob(path("infra", "*.tf"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	p := hclparse.NewParser()
	for _, name := range names {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		base := filepath.Base(name)
		m.files[base] = src
		f, diags := p.ParseHCL(src, base)
		require.False(t, diags.HasErrors(), "%s: %s", base, diags.Error())
		body := f.Body.(*hclsyntax.Body)
		require.Empty(t, body.Attributes, "%s: no top-level attributes", base)
		for _, b := range body.Blocks {
			switch b.Type {
			case "variable":
				require.Len(t, b.Labels, 1)
				require.NotContains(t, m.variables, b.Labels[0], "duplicate variable")
				m.variables[b.Labels[0]] = b
			case "locals":
				for n, a := range b.Body.Attributes {
					require.NotContains(t, m.locals, n, "duplicate local")
					m.locals[n] = a
				}
			case "resource", "data":
				require.Len(t, b.Labels, 2, "%s %v", b.Type, b.Labels)
				into := m.resources
				if b.Type == "data" {
					into = m.data
				}
				if into[b.Labels[0]] == nil {
					into[b.Labels[0]] = map[string]tfBlock{}
				}
				require.NotContains(t, into[b.Labels[0]], b.Labels[1], "duplicate %s", b.Labels)
				into[b.Labels[0]][b.Labels[1]] = tfBlock{file: base, block: b}
			case "terraform", "provider", "output":
				m.others = append(m.others, tfBlock{file: base, block: b})
			default:
				t.Fatalf("%s: unexpected block %s", base, b.Type)
			}
		}
	}
	m.evalVars(t)
	m.evalLocals(t)
	return m
}

func tfFunctions() map[string]function.Function {
	return map[string]function.Function{
		"jsonencode": stdlib.JSONEncodeFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"concat":     stdlib.ConcatFunc,
		"merge":      stdlib.MergeFunc,
		"format":     stdlib.FormatFunc,
		"lookup":     stdlib.LookupFunc,
		"contains":   stdlib.ContainsFunc,
		"keys":       stdlib.KeysFunc,
		"length":     stdlib.LengthFunc,
		"join":       stdlib.JoinFunc,
		"lower":      stdlib.LowerFunc,
		"upper":      stdlib.UpperFunc,
		"regex":      stdlib.RegexFunc,
		"tostring":   stdlib.MakeToFunc(cty.String),
		"tonumber":   stdlib.MakeToFunc(cty.Number),
		"can":        tryfunc.CanFunc,
		"try":        tryfunc.TryFunc,
		"startswith": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "prefix", Type: cty.String}},
			Type:   function.StaticReturnType(cty.Bool),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.BoolVal(strings.HasPrefix(args[0].AsString(), args[1].AsString())), nil
			},
		}),
	}
}

func (m *tfModule) evalVars(t *testing.T) {
	t.Helper()
	m.vars = map[string]cty.Value{}
	for name, b := range m.variables {
		if v, ok := tfTestVars[name]; ok {
			m.vars[name] = v
			continue
		}
		def, ok := b.Body.Attributes["default"]
		require.True(t, ok, "variable %q has no default: add a test value to tfTestVars", name)
		v, diags := def.Expr.Value(nil)
		require.False(t, diags.HasErrors(), "variable %s default: %s", name, diags.Error())
		m.vars[name] = v
	}
	for name := range tfTestVars {
		require.Contains(t, m.variables, name, "tfTestVars names an undeclared variable")
	}
}

// placeholder builds "TYPE.NAME.ATTR" attribute objects for every resource
// or data source, keyed by for_each keys when it has a for_each.
func (m *tfModule) placeholders(t *testing.T, blocks map[string]map[string]tfBlock, prefix string, ctx *hcl.EvalContext) cty.Value {
	types := map[string]cty.Value{}
	for typ, byName := range blocks {
		objs := map[string]cty.Value{}
		for name, b := range byName {
			attrs := func(key string) cty.Value {
				id := prefix + typ + "." + name
				if key != "" {
					id += "[" + key + "]"
				}
				a := map[string]cty.Value{}
				for _, attr := range []string{"arn", "id", "name", "json", "family", "revision"} {
					a[attr] = cty.StringVal(id + "." + attr)
				}
				switch typ {
				case "aws_caller_identity":
					a["account_id"] = cty.StringVal(tfAccountID)
				case "aws_partition":
					a["partition"] = cty.StringVal("aws")
				}
				return cty.ObjectVal(a)
			}
			fe, ok := b.block.Body.Attributes["for_each"]
			if !ok {
				objs[name] = attrs("")
				continue
			}
			if ctx == nil {
				objs[name] = cty.DynamicVal
				continue
			}
			v, diags := fe.Expr.Value(ctx)
			require.False(t, diags.HasErrors(), "%s.%s for_each: %s", typ, name, diags.Error())
			byKey := map[string]cty.Value{}
			for it := v.ElementIterator(); it.Next(); {
				k, _ := it.Element()
				byKey[k.AsString()] = attrs(k.AsString())
			}
			objs[name] = cty.ObjectVal(byKey)
		}
		types[typ] = cty.ObjectVal(objs)
	}
	return cty.ObjectVal(types)
}

func (m *tfModule) ctx(t *testing.T, each map[string]cty.Value) *hcl.EvalContext {
	t.Helper()
	base := &hcl.EvalContext{Functions: tfFunctions(), Variables: map[string]cty.Value{
		"var":   cty.ObjectVal(m.vars),
		"local": cty.ObjectVal(m.values),
		"path":  cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal("."), "root": cty.StringVal(".")}),
	}}
	dataVal := m.placeholders(t, m.data, "data.", base)
	base.Variables["data"] = dataVal
	resVal := m.placeholders(t, m.resources, "", base)
	for typ, v := range resVal.AsValueMap() {
		base.Variables[typ] = v
	}
	if each != nil {
		base.Variables["each"] = cty.ObjectVal(each)
	}
	return base
}

func (m *tfModule) evalLocals(t *testing.T) {
	t.Helper()
	m.values = map[string]cty.Value{}
	pending := map[string]*hclsyntax.Attribute{}
	for k, v := range m.locals {
		pending[k] = v
	}
	for len(pending) > 0 {
		progress := false
		var lastErr string
		for name, a := range pending {
			v, diags := a.Expr.Value(m.ctx(t, nil))
			if diags.HasErrors() {
				lastErr = name + ": " + diags.Error()
				continue
			}
			m.values[name] = v
			delete(pending, name)
			progress = true
		}
		require.True(t, progress, "locals do not evaluate: %s", lastErr)
	}
}

// resource returns a resource block (fails when absent).
func (m *tfModule) resource(t *testing.T, typ, name string) *hclsyntax.Block {
	t.Helper()
	b, ok := m.resources[typ][name]
	require.True(t, ok, "resource %s.%s", typ, name)
	return b.block
}

// forEach evaluates the for_each of a block: key -> value.
func (m *tfModule) forEach(t *testing.T, b *hclsyntax.Block) map[string]cty.Value {
	t.Helper()
	fe, ok := b.Body.Attributes["for_each"]
	require.True(t, ok, "%v has for_each", b.Labels)
	v, diags := fe.Expr.Value(m.ctx(t, nil))
	require.False(t, diags.HasErrors(), diags.Error())
	out := map[string]cty.Value{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		out[k.AsString()] = e
	}
	return out
}

// attr evaluates an attribute of a block; each may be nil.
func (m *tfModule) attr(t *testing.T, b *hclsyntax.Block, name string, each map[string]cty.Value) cty.Value {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	require.True(t, ok, "%v: attribute %s", b.Labels, name)
	v, diags := a.Expr.Value(m.ctx(t, each))
	require.False(t, diags.HasErrors(), "%v.%s: %s", b.Labels, name, diags.Error())
	return v
}

// traversalRoots lists "a.b.c" of every static reference in an expression.
func traversalRoots(e hclsyntax.Expression) []string {
	var out []string
	for _, tr := range e.Variables() {
		var parts []string
		for _, step := range tr {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				parts = append(parts, s.Name)
			case hcl.TraverseAttr:
				parts = append(parts, s.Name)
			case hcl.TraverseIndex:
				parts = append(parts, fmt.Sprintf("[%s]", s.Key.GoString()))
			}
		}
		out = append(out, strings.Join(parts, "."))
	}
	sort.Strings(out)
	return out
}
