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
// A fault kind is a unit, one file each: partition.go, pause.go,
// freeze.go, kill.go, wipe.go, loss.go, delay.go, clock.go, failpoint.go
// (a database's failpoints, through Failpoints), upgrade.go (members
// moved between a run's versions, through Versions), stall.go (a
// member's fsyncs held), throttle.go (a node's CPU capped). Each holds
// the kind's name (a histories.Fault* constant), its rules with their
// weights in deck order, how a step of it is resolved against live state
// into a fault that applies and heals itself, and what an agent's status
// still shows of it. kinds.go registers them in one list, allKinds, from
// which Kinds, KindTable and RuleTable (and so `harness faults`) are
// derived. The order of a kind's rules is where its seeded deck starts:
// changing it changes every plan of the kind (plan_pin_test.go pins
// plans).
//
// The rest, one file per idea: schedule.go (target rules, steps, the
// seeded plan), rules.go (looking rules up, what they need),
// executor.go (applying, healing, targets; the Node and Agent
// interfaces it needs), links.go (bad links both ways, for loss and
// delay). Node.Agent returns Agent, declared here with exactly the calls
// the kinds make: *agent.Client is the real one (Adapt wraps a node that
// returns it), and the tests use an in-memory twin (fake_agent_test.go).
//
// Adding a kind: docs/faults.md, "Adding a fault", lists every place.
package nemesis
