package probes

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"runtime/debug"
	"time"
)

// LoadAndUpdate loads journey files and hands them to the scheduler. On bad
// input the scheduler keeps its last good set, the reload gauge goes to 0,
// and the error (file:line) is returned for the log.
func (s *Scheduler) LoadAndUpdate(paths ...string) error {
	js, err := LoadFiles(paths...)
	if err != nil {
		if s.o.Metrics != nil {
			s.o.Metrics.SetReload(false, s.o.Now())
		}
		s.o.Logger.Error("journey reload failed; keeping the last good set", "err", err)
		return err
	}
	s.Update(js)
	if s.o.Metrics != nil {
		s.o.Metrics.SetReload(true, s.o.Now())
	}
	s.o.Logger.Info("journeys loaded", "count", len(js))
	// Parsing leaves garbage several times the size of what is kept (the
	// YAML node tree and line index: ~400 MB for 10,000 journeys in one
	// file); hand it back to the OS now rather than over minutes.
	js = nil
	debug.FreeOSMemory()
	return nil
}

// Watch polls the files every interval and reloads when their content
// changes (SIGHUP handling belongs to the command, which calls
// LoadAndUpdate). Polling needs no extra dependency and catches editors
// that replace files by rename. It returns when ctx ends.
func (s *Scheduler) Watch(ctx context.Context, every time.Duration, paths ...string) {
	last := fingerprint(paths)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if fp := fingerprint(paths); fp != last {
			last = fp
			s.LoadAndUpdate(paths...)
		}
	}
}

func fingerprint(paths []string) [32]byte {
	h := sha256.New()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			io.WriteString(h, "\x00missing:"+p)
			continue
		}
		io.Copy(h, f)
		f.Close()
		io.WriteString(h, "\x00")
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Select returns the journeys with the given names (all when none given),
// and the names not found.
func Select(journeys []Journey, names ...string) (selected []Journey, missing []string) {
	if len(names) == 0 {
		return journeys, nil
	}
	byName := make(map[string]int, len(journeys))
	for i, j := range journeys {
		byName[j.Name] = i
	}
	for _, n := range names {
		if i, ok := byName[n]; ok {
			selected = append(selected, journeys[i])
		} else {
			missing = append(missing, n)
		}
	}
	return selected, missing
}
