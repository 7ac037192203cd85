package metrics

import (
	"strconv"
	"unsafe"

	"github.com/tidwall/gjson"
)

// view is what the deriver reads from one canonical record. Strings point
// into the batch (valid during Send only); families copy what they keep.
type view struct {
	method, path string
	hasStatus    bool
	status       int
	hasDuration  bool
	duration     float64

	userID, userSegment, sessionID string
	errType, errCategory           string
	hasError                       bool
	format                         string

	hasWorkflow               bool
	wfID, wfType, wfStatus    string
	attrStatus, wfComplexity  string
	attrWfType, attrWfID      string
	model, provider           string
	prompt, completion, total float64
	hasPrompt, hasCompletion  bool
	hasTotal, hasCost         bool
	cost                      float64
	apiKeyID, clientName      string
	activityType              string
}

// attrField names what an attrs key (after normalization) means.
type attrField uint8

const (
	afNone attrField = iota
	afModel
	afProvider
	afPrompt
	afCompletion
	afTotal
	afCost
	afAPIKeyID
	afClientName
	afActivity
	afComplexity
	afWfStatus
	afWfType
	afWfID
)

// attrAliases maps normalized attrs keys (lower case, '_', '-' and ' '
// removed, nested keys joined with '.') to their meaning. Flat dotted keys
// ("gen_ai.usage.input_tokens") and nested objects ({"gen_ai":{"usage":
// {"input_tokens":…}}}) normalize to the same key.
var attrAliases = buildAliases()

func buildAliases() map[string]attrField {
	m := map[string]attrField{}
	add := func(f attrField, keys ...string) {
		for _, k := range keys {
			m[normKey(k)] = f
		}
	}
	add(afModel, "model", "model_name", "model_id", "llm_model", "ai_model", "ai.model", "llm.model",
		"gen_ai.request.model", "gen_ai.response.model", "gen_ai.model", "openai.model", "ai.model_name", "llm.model_name")
	add(afProvider, "provider", "ai_provider", "llm_provider", "model_provider", "ai.provider", "llm.provider",
		"gen_ai.system", "gen_ai.provider.name", "gen_ai.provider", "llm.vendor", "ai.vendor")
	add(afPrompt, "prompt_tokens", "input_tokens", "tokens_in", "tokens_input", "prompt_token_count", "input_token_count",
		"usage.prompt_tokens", "usage.input_tokens", "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
		"llm.usage.prompt_tokens", "ai.usage.prompt_tokens", "ai.prompt_tokens", "llm.prompt_tokens", "llm.input_tokens",
		"tokens.prompt", "tokens.input", "usage.prompt", "usage.input")
	add(afCompletion, "completion_tokens", "output_tokens", "tokens_out", "tokens_output", "completion_token_count",
		"output_token_count", "candidates_token_count", "usage.completion_tokens", "usage.output_tokens",
		"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.usage.completion_tokens",
		"ai.usage.completion_tokens", "ai.completion_tokens", "llm.completion_tokens", "llm.output_tokens",
		"tokens.completion", "tokens.output", "usage.completion", "usage.output")
	add(afTotal, "tokens", "total_tokens", "token_count", "tokens_used", "tokens_total", "total_token_count",
		"usage.total_tokens", "usage.tokens", "gen_ai.usage.total_tokens", "llm.usage.total_tokens",
		"ai.usage.total_tokens", "ai.tokens", "llm.tokens", "ai.total_tokens", "llm.total_tokens", "tokens.total")
	add(afCost, "cost", "cost_usd", "total_cost", "total_cost_usd", "ai_cost", "llm_cost", "usage.cost",
		"usage.cost_usd", "usage.total_cost", "ai.cost", "llm.cost", "gen_ai.usage.cost", "ai.cost_usd", "llm.cost_usd")
	add(afAPIKeyID, "api_key_id", "apikey_id", "key_id", "api_key", "apikey", "x-api-key", "http_x_api_key",
		"api_key_name", "api_key.id", "auth.key_id", "auth.api_key_id")
	add(afClientName, "client_name", "client.name", "client_app", "client_id", "consumer", "consumer_name",
		"api_client", "auth.client_id", "auth.client_name")
	add(afActivity, "activity_type", "activity", "user_action", "action", "user.action", "activity.type")
	add(afComplexity, "complexity_level", "complexity", "workflow_complexity", "workflow.complexity",
		"workflow.complexity_level")
	add(afWfStatus, "workflow_status", "workflow.status", "status")
	add(afWfType, "workflow_type", "workflow.type")
	add(afWfID, "workflow_id", "workflow.id")
	return m
}

// normKey normalizes an alias for attrAliases.
func normKey(k string) string {
	return string(appendNormKey(nil, k))
}

func appendNormKey(dst []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_' || c == '-' || c == ' ':
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func sstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parser reads records into views; its scratch is reused (one per Deriver,
// used under the Deriver's send lock).
type parser struct {
	path []byte
}

// parse fills v from one canonical record (v must be zero).
func (p *parser) parse(rec []byte, v *view) {
	gjson.Parse(sstr(rec)).ForEach(func(k, val gjson.Result) bool {
		switch k.Str {
		case "request":
			val.ForEach(func(k, x gjson.Result) bool {
				switch k.Str {
				case "method":
					v.method = str(x)
				case "path":
					v.path = str(x)
				case "duration":
					if x.Type == gjson.Number {
						v.duration, v.hasDuration = x.Num, true
					}
				}
				return true
			})
		case "response":
			if s := val.Get("status"); s.Type == gjson.Number {
				v.status, v.hasStatus = int(s.Num), true
			}
		case "user":
			val.ForEach(func(k, x gjson.Result) bool {
				switch k.Str {
				case "id":
					v.userID = str(x)
				case "segment":
					v.userSegment = str(x)
				}
				return true
			})
		case "session":
			v.sessionID = str(val.Get("id"))
		case "error":
			v.hasError = true
			val.ForEach(func(k, x gjson.Result) bool {
				switch k.Str {
				case "type":
					v.errType = str(x)
				case "category":
					v.errCategory = str(x)
				}
				return true
			})
		case "workflow":
			v.hasWorkflow = true
			val.ForEach(func(k, x gjson.Result) bool {
				switch k.Str {
				case "id":
					v.wfID = str(x)
				case "type":
					v.wfType = str(x)
				case "status":
					v.wfStatus = str(x)
				}
				return true
			})
		case "origin":
			v.format = str(val.Get("format"))
		case "attrs":
			p.path = p.path[:0]
			p.walk(val, v, 0)
		}
		return true
	})
}

// walk visits attrs (nested objects up to depth 3) and records the known
// fields; the first occurrence of a field wins.
func (p *parser) walk(obj gjson.Result, v *view, depth int) {
	base := len(p.path)
	obj.ForEach(func(k, x gjson.Result) bool {
		p.path = p.path[:base]
		if base > 0 {
			p.path = append(p.path, '.')
		}
		p.path = appendNormKey(p.path, k.Str)
		if x.IsObject() {
			if depth < 3 {
				p.walk(x, v, depth+1)
			}
			return true
		}
		f, ok := attrAliases[string(p.path)]
		if !ok {
			return true
		}
		switch f {
		case afModel:
			setStr(&v.model, x)
		case afProvider:
			setStr(&v.provider, x)
		case afPrompt:
			setNum(&v.prompt, &v.hasPrompt, x)
		case afCompletion:
			setNum(&v.completion, &v.hasCompletion, x)
		case afTotal:
			setNum(&v.total, &v.hasTotal, x)
		case afCost:
			setNum(&v.cost, &v.hasCost, x)
		case afAPIKeyID:
			setStr(&v.apiKeyID, x)
		case afClientName:
			setStr(&v.clientName, x)
		case afActivity:
			setStr(&v.activityType, x)
		case afComplexity:
			setStr(&v.wfComplexity, x)
		case afWfStatus:
			setStr(&v.attrStatus, x)
		case afWfType:
			setStr(&v.attrWfType, x)
		case afWfID:
			setStr(&v.attrWfID, x)
		}
		return true
	})
	p.path = p.path[:base]
}

// str returns a string or number value as text ("" otherwise).
func str(x gjson.Result) string {
	switch x.Type {
	case gjson.String:
		return x.Str
	case gjson.Number:
		return x.Raw
	}
	return ""
}

func setStr(dst *string, x gjson.Result) {
	if *dst == "" {
		*dst = str(x)
	}
}

func setNum(dst *float64, has *bool, x gjson.Result) {
	if *has {
		return
	}
	switch x.Type {
	case gjson.Number:
		*dst, *has = x.Num, true
	case gjson.String:
		if f, err := strconv.ParseFloat(x.Str, 64); err == nil {
			*dst, *has = f, true
		}
	}
}
