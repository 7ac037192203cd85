package file

import (
	"context"
	"sync"
)

// fdPool bounds the file handles held by trackers (max_open_files). A
// tracker that needs a handle while all are taken queues up, and the least
// recently active holders are asked to close theirs (they do so after
// their current read and keep their position).
type fdPool struct {
	mu      sync.Mutex
	max     int
	holders map[*tracker]struct{}
	waiters []*poolWaiter
}

type poolWaiter struct {
	t       *tracker
	ch      chan struct{}
	granted bool
}

func newFDPool(max int) *fdPool {
	return &fdPool{max: max, holders: map[*tracker]struct{}{}}
}

// acquire takes a slot for t, waiting (FIFO) while all are held. It
// returns false when ctx ends first.
func (p *fdPool) acquire(ctx context.Context, t *tracker) bool {
	p.mu.Lock()
	if len(p.holders) < p.max && len(p.waiters) == 0 {
		p.holders[t] = struct{}{}
		p.mu.Unlock()
		return true
	}
	w := &poolWaiter{t: t, ch: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.askEvictLocked()
	p.mu.Unlock()
	select {
	case <-w.ch:
		return true
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		if w.granted {
			delete(p.holders, t)
			p.grantLocked()
			return false
		}
		for i, x := range p.waiters {
			if x == w {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				break
			}
		}
		return false
	}
}

// tryAcquire takes a slot for t if one is free now.
func (p *fdPool) tryAcquire(t *tracker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.holders) < p.max && len(p.waiters) == 0 {
		p.holders[t] = struct{}{}
		return true
	}
	return false
}

// release frees t's slot.
func (p *fdPool) release(t *tracker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.holders[t]; !ok {
		return
	}
	delete(p.holders, t)
	p.grantLocked()
}

func (p *fdPool) grantLocked() {
	for len(p.holders) < p.max && len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		w.granted = true
		p.holders[w.t] = struct{}{}
		close(w.ch)
	}
	if len(p.waiters) > 0 {
		p.askEvictLocked()
	}
}

// askEvictLocked asks as many least recently active holders to close as
// there are waiters not yet covered by an earlier request.
func (p *fdPool) askEvictLocked() {
	asked := 0
	for h := range p.holders {
		if h.evict.Load() {
			asked++
		}
	}
	for need := len(p.waiters) - asked; need > 0; need-- {
		var victim *tracker
		for h := range p.holders {
			if h.evict.Load() {
				continue
			}
			if victim == nil || h.lastActive.Load() < victim.lastActive.Load() {
				victim = h
			}
		}
		if victim == nil {
			return
		}
		victim.evict.Store(true)
		victim.poke()
	}
}

func (p *fdPool) held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.holders)
}
