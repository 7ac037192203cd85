package workload

import (
	"fmt"
	"io"
	"strings"
)

// FireLens task of the firelens kind: one ECS task, two containers.
const (
	flCluster = "starmates-prod"
	flTaskARN = "arn:aws:ecs:eu-west-1:123456789012:task/starmates-prod/4d5b8c0e2f7a4b19a1c3e5f7091b2d4f"
)

var flContainers = []struct{ id, name, service, taskdef string }{
	{"4d5b8c0e2f7a4b19a1c3e5f7091b2d4f-2531612879", "api-gateway", "api-gateway", "api-gateway:42"},
	{"4d5b8c0e2f7a4b19a1c3e5f7091b2d4f-3907325741", "workflow-agent", "workflow-agent", "api-gateway:42"},
}

var jsonEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// firelens writes one FireLens record as the Fluent Bit / fluentd log
// driver hands it over, serialised as JSON (key order as FireLens writes
// it): {"log":"<container line>","container_id":...,"container_name":...,
// "source":"stdout","ecs_cluster":...,"ecs_task_arn":...,
// "ecs_task_definition":...}. The container line is a FastAPI JSON app
// record shaped like the json kind (nested request/response on about half
// of them), or, for ~10 % of the records, a uvicorn access line.
func (g *gen) firelens(w io.Writer) error {
	c := flContainers[0]
	if g.r.IntN(5) == 0 {
		c = flContainers[1]
	}
	ts := g.tick().Format("2006-01-02T15:04:05.000000Z")
	p := g.r.IntN(len(paths))
	var line string
	switch k := g.r.IntN(10); {
	case k == 0:
		line = fmt.Sprintf(`INFO:     10.0.%d.%d:%d - "%s %s HTTP/1.1" %d OK`, g.r.IntN(255), g.r.IntN(255), 30000+g.r.IntN(30000), methods[p], paths[p], 200)
	case k < 5:
		st := status[g.r.IntN(len(status))]
		line = fmt.Sprintf(`{"timestamp":"%s","level":"INFO","service":"%s","tracking_id":"%s","message":"%s %s - %d","request":{"method":"%s","path":"%s","duration":0.%03d},"response":{"status":%d,"size":%d}}`,
			ts, c.service, g.uuid(), methods[p], paths[p], st, methods[p], paths[p], g.r.IntN(1000), st, g.r.IntN(5000))
	default:
		line = fmt.Sprintf(`{"timestamp":"%s","level":"DEBUG","service":"%s","tracking_id":"%s","message":"auth ok for user_%d","source":{"module":"gateway","function":"create_session","line":%d},"user":{"id":"user_%d","segment":"premium"}}`,
			ts, c.service, g.uuid(), g.r.IntN(99999), g.r.IntN(300), g.r.IntN(99999))
	}
	_, err := fmt.Fprintf(w, `{"log":"%s","container_id":"%s","container_name":"%s","source":"stdout","ecs_cluster":"%s","ecs_task_arn":"%s","ecs_task_definition":"%s"}`+"\n",
		jsonEscaper.Replace(line), c.id, c.name, flCluster, flTaskARN, c.taskdef)
	return err
}
