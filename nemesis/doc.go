// Package nemesis owns the fault vocabulary, seeded schedules, and the
// executor that applies faults to nodes through their agents. A schedule
// is a pure function of (seed, kinds, interval, time limit): fault kinds,
// target rules and times. Concrete targets that depend on live state (the
// raft leader, the election leader) are resolved when a fault starts.
// Kinds are dealt from a seeded, shuffled deck, so each kind asked for
// comes up as often as the others.
// Every fault's start and stop is an event in the history, and every
// fault is healed at the end of a run and on every exit path.
//
// One file per idea: schedule.go (kinds, rules, the seeded plan),
// executor.go (applying and healing), grudge.go (who cannot talk to
// whom), clock.go (whose clocks do what).
package nemesis
