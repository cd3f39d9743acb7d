package oncall

import (
	"context"
	"time"
)

// EventLog remembers the ids of webhook events already received, so that a
// replayed event is refused. internal/store keeps it in the database, so
// that replicas behind one load balancer share it; MemStore keeps it in
// memory.
type EventLog interface {
	// FirstSeen records event id of source as received at now, first
	// forgetting the ids received more than keep before now, and reports
	// whether id is new. Two callers racing with one id: exactly one sees
	// true.
	FirstSeen(ctx context.Context, source, id string, now time.Time, keep time.Duration) (bool, error)
	// Forget drops an id, so that the sender's retry of an event whose
	// handling failed is taken.
	Forget(ctx context.Context, source, id string) error
}

// FirstSeen implements EventLog.
func (s *MemStore) FirstSeen(ctx context.Context, source, id string, now time.Time, keep time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	for k, t := range s.seen {
		if t.Before(now.Add(-keep)) {
			delete(s.seen, k)
		}
	}
	k := source + "/" + id
	if _, ok := s.seen[k]; ok {
		return false, nil
	}
	s.seen[k] = now
	return true, nil
}

// Forget implements EventLog.
func (s *MemStore) Forget(ctx context.Context, source, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, source+"/"+id)
	return nil
}
