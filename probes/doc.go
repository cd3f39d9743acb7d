// Package probes runs synthetic journeys: named, ordered steps (http, tcp,
// dns, tls, grpc, icmp) run as one user would, with values carried between
// steps, assertions that explain themselves, and a scheduler that runs every
// journey on its interval or cron schedule without drift.
//
// The pieces, in the order data flows:
//
//	LoadFiles/Parse  journey YAML → []Journey (strict; file:line errors, exit 2)
//	Run              one journey once → Result (per-journey and per-step timeouts, no retries)
//	Scheduler        all journeys, spread, bounded; Update by diff; hands Results to Sinks
//	Metrics          the table of names.go on a prometheus.Registerer
//	Report           {"journeys": [...]} JSON and text for `vigil probe run`
//
// The package imports no store, server or slo code: edges satisfy Sink.
//
// ${env:} and ${file:} are resolved at load; ${name} and the `$${` escape
// are resolved at run time, so "$${name}" sends a literal "${name}".
package probes
