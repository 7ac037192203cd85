package cloudwatch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// The hot path never asks the control plane: PutLogEvents goes straight
// to the stream, and only a ResourceNotFoundException runs ensure:
// CreateLogGroup (ResourceAlreadyExists is fine) → PutRetentionPolicy when
// configured and the group is new → CreateLogStream (AlreadyExists is
// fine) → resend. Generations make concurrent calls to one new stream
// create it once: a call that saw generation g before its PutLogEvents
// failed only creates when the generation is still g.

type groupState struct {
	name string
	mu   sync.Mutex // serialises creation
	// gen counts creations (or confirmations) by this process; 0: never.
	gen              atomic.Uint64
	retentionPending atomic.Bool
}

type streamState struct {
	group, name string
	gs          *groupState
	mu          sync.Mutex
	gen         atomic.Uint64
}

// stream returns the cached state of (group, name).
func (s *Sink) stream(group, name string) *streamState {
	key := group + "\x00" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.streams[key]; ok {
		return ss
	}
	if len(s.streams) >= maxStreams {
		clear(s.streams)
		clear(s.groups)
	}
	gs, ok := s.groups[group]
	if !ok {
		gs = &groupState{name: group}
		s.groups[group] = gs
	}
	ss := &streamState{group: group, name: name, gs: gs}
	s.streams[key] = ss
	return ss
}

var okOutcome = outcome{class: classOK}

// ensure creates the group (when allowed and not yet done by this
// process) and the stream, unless another call did since generation seen.
func (s *Sink) ensure(ctx context.Context, ss *streamState, seen uint64) outcome {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.gen.Load() != seen {
		return okOutcome
	}
	gs := ss.gs
	if s.cfg.CreateLogGroup {
		if gs.gen.Load() == 0 {
			if o := s.ensureGroup(ctx, gs, 0); o.class != classOK {
				return o
			}
		} else if gs.retentionPending.Load() {
			gs.mu.Lock()
			s.setRetentionLocked(ctx, gs)
			gs.mu.Unlock()
		}
	}
	g := gs.gen.Load()
	o := s.createStream(ctx, ss)
	if o.class == classNotFound {
		if !s.cfg.CreateLogGroup {
			return s.failed(classPermanent, ReasonGroupMissing, "CreateLogStream", ss.group, ss.name,
				fmt.Errorf("log group does not exist and create_log_group is false: %w", o.err))
		}
		// The group is gone (deleted behind our back): create it again.
		if o := s.ensureGroup(ctx, gs, g); o.class != classOK {
			return o
		}
		if o = s.createStream(ctx, ss); o.class == classNotFound {
			return outcome{class: classRetryable, err: fmt.Errorf("log group %q: still not found after creating it: %w", ss.group, o.err)}
		}
	}
	if o.class == classOK {
		ss.gen.Add(1)
	}
	return o
}

// ensureGroup creates gs unless another call did since generation seen,
// then sets a pending retention policy.
func (s *Sink) ensureGroup(ctx context.Context, gs *groupState, seen uint64) outcome {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if gs.gen.Load() == seen {
		err := s.control(ctx, func(ctx context.Context) error {
			_, err := s.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{
				LogGroupName:  &gs.name,
				LogGroupClass: types.LogGroupClass(s.cfg.LogGroupClass),
			})
			return err
		})
		switch {
		case err == nil:
			s.stats.GroupsCreated.Add(1)
			s.logger.Info("created log group", "group", gs.name, "class", s.cfg.LogGroupClass)
			if s.cfg.RetentionDays > 0 {
				gs.retentionPending.Store(true)
			}
		case errorCode(err) == "ResourceAlreadyExistsException":
		default:
			cl, reason := classify(err)
			return s.failed(cl, reason, "CreateLogGroup", gs.name, "", err)
		}
		gs.gen.Add(1)
	}
	s.setRetentionLocked(ctx, gs)
	return okOutcome
}

// setRetentionLocked sets a pending retention policy (gs.mu held).
func (s *Sink) setRetentionLocked(ctx context.Context, gs *groupState) {
	if gs.retentionPending.Load() {
		days := int32(s.cfg.RetentionDays)
		err := s.control(ctx, func(ctx context.Context) error {
			_, err := s.client.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &gs.name, RetentionInDays: &days})
			return err
		})
		if err != nil {
			// Not fatal for delivery: retried at the next ensure of a
			// stream of this group.
			s.logger.Warn("setting the log group retention failed; records are still delivered", "group", gs.name, "retention_days", days, "err", err)
		} else {
			gs.retentionPending.Store(false)
			s.stats.RetentionSet.Add(1)
		}
	}
}

// createStream creates ss's stream; AlreadyExists counts as success and a
// missing group is returned as classNotFound.
func (s *Sink) createStream(ctx context.Context, ss *streamState) outcome {
	err := s.control(ctx, func(ctx context.Context) error {
		_, err := s.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &ss.group, LogStreamName: &ss.name})
		return err
	})
	if err == nil {
		s.stats.StreamsCreated.Add(1)
		s.logger.Info("created log stream", "group", ss.group, "stream", ss.name)
		return okOutcome
	}
	if errorCode(err) == "ResourceAlreadyExistsException" {
		return okOutcome
	}
	cl, reason := classify(err)
	if cl == classNotFound {
		return outcome{class: classNotFound, err: err}
	}
	return s.failed(cl, reason, "CreateLogStream", ss.group, ss.name, err)
}

// control runs one control-plane call under the request timeout, and a
// second time after an OperationAbortedException (a concurrent change to
// the same resource).
func (s *Sink) control(ctx context.Context, f func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		s.stats.ControlPlaneCall.Add(1)
		err := f(cctx)
		cancel()
		if err != nil && attempt == 0 && errorCode(err) == "OperationAbortedException" {
			continue
		}
		return err
	}
}
