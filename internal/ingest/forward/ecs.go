package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// EnvECSMetadataURI is the variable ECS sets in every container of a task
// (Task Metadata Endpoint v4).
const EnvECSMetadataURI = "ECS_CONTAINER_METADATA_URI_V4"

// ecsMeta holds the JSON fragments (`,"key":"value"`) added to records;
// an empty fragment means the value is unknown.
type ecsMeta struct {
	cluster, taskARN, taskDef, az []byte
}

// Fetch timing: each try is bounded by ecsTryTimeout; tries back off from
// ecsFirstBackoff, doubling, ecsTries times in all (about 14 s worst case).
// Connections wait at most ecsStartWait after Run starts for the first
// answer, so a slow endpoint never holds records for long.
var (
	ecsTries        = 5
	ecsTryTimeout   = 2 * time.Second
	ecsFirstBackoff = 250 * time.Millisecond
	ecsStartWait    = 2 * time.Second
)

// taskMetadata is the part of GET ${ECS_CONTAINER_METADATA_URI_V4}/task used.
type taskMetadata struct {
	Cluster          string `json:"Cluster"`
	TaskARN          string `json:"TaskARN"`
	Family           string `json:"Family"`
	Revision         string `json:"Revision"`
	AvailabilityZone string `json:"AvailabilityZone"`
}

func (m *taskMetadata) fragments() *ecsMeta {
	frag := func(key, v string) []byte {
		if v == "" {
			return nil
		}
		b := append([]byte(`,"`), key...)
		b = append(b, `":`...)
		return appendJSONStringS(b, v)
	}
	def := m.Family
	if def != "" && m.Revision != "" {
		def += ":" + m.Revision
	}
	return &ecsMeta{
		cluster: frag("ecs_cluster", m.Cluster),
		taskARN: frag("ecs_task_arn", m.TaskARN),
		taskDef: frag("ecs_task_definition", def),
		az:      frag("ecs_availability_zone", m.AvailabilityZone),
	}
}

// fetchTaskMetadata GETs uri + "/task" once.
func fetchTaskMetadata(ctx context.Context, client *http.Client, uri string) (*taskMetadata, error) {
	ctx, cancel := context.WithTimeout(ctx, ecsTryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(uri, "/")+"/task", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var m taskMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("decode task metadata: %w", err)
	}
	if m.Cluster == "" && m.TaskARN == "" {
		return nil, errors.New("task metadata has no Cluster or TaskARN")
	}
	return &m, nil
}

// loadECSMetadata fetches the task metadata with retries and stores it in
// s.meta; it closes s.metaReady when done, whatever the outcome.
func (s *Source) loadECSMetadata(ctx context.Context, uri string) {
	defer close(s.metaReady)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	wait := ecsFirstBackoff
	var err error
	for try := 1; try <= ecsTries; try++ {
		var m *taskMetadata
		if m, err = fetchTaskMetadata(ctx, client, uri); err == nil {
			s.meta.Store(m.fragments())
			s.logger.Info("forward: ECS task metadata loaded", "cluster", m.Cluster, "task_arn", m.TaskARN,
				"task_definition", m.Family+":"+m.Revision)
			return
		}
		s.stats.ECSMetadataErrors.Add(1)
		if try == ecsTries {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait *= 2
	}
	s.logger.Warn("forward: ECS task metadata unavailable; records get no ecs_* fields",
		slog.String("err", err.Error()), slog.Int("tries", ecsTries))
}
