// Package nemesis owns the fault vocabulary, seeded schedules, and the
// executor that applies faults to nodes through their agents. A schedule
// is a pure function of (seed, kinds, interval, time limit): fault kinds,
// target rules and times. Concrete targets that depend on live state (the
// raft leader, the election leader) are resolved when a fault starts.
// Every fault's start and stop is an event in the history, and every
// fault is healed at the end of a run and on every exit path.
package nemesis
