// Package nemesis owns the fault vocabulary, seeded schedules, and the
// executor that applies faults to nodes through their agents.
//
// A schedule is a pure function of seed, kinds, interval and time limit.
// It fixes the fault kinds, target rules and times. Targets that depend
// on live state, such as the raft leader or the election leader, are
// resolved when a fault starts. Kinds are dealt from a seeded, shuffled
// deck, so each kind asked for comes up as often as the others. Every
// fault's start and stop is an event in the history, and every fault is
// healed at the end of a run and on every exit path.
//
// Each fault kind is a unit in a file of its own:
//
//   - partition.go: nftables drops between nodes, by grudge
//   - pause.go: SIGSTOP of a node's processes
//   - freeze.go: the cgroup freezer on a whole node
//   - kill.go: SIGKILL, restarted with its data
//   - wipe.go: a member's data lost, rejoined empty (through Membership)
//   - loss.go and delay.go: packets dropped or held on a node's links
//   - clock.go: a process's own clocks skewed
//   - failpoint.go: a database's failpoints (through Failpoints)
//   - upgrade.go: members moved between a run's versions (through Versions)
//   - stall.go: a member's fsyncs held
//   - throttle.go: a node's CPU capped
//   - lose.go: a power loss that undoes unsynced writes
//   - compact.go: compaction and defragmentation (through Maintenance)
//
// Each holds the kind's name (a histories.Fault* constant), its rules
// with their weights in deck order, how a step of it is resolved against
// live state into a fault that applies and heals itself, and what an
// agent's status still shows of it. The order of a kind's rules is where
// its seeded deck starts, so changing it changes every plan of the kind
// (plan_pin_test.go pins plans).
//
// The other files hold one idea each:
//
//   - kinds.go: allKinds, the one list of kinds, from which Kinds,
//     KindTable and RuleTable (and so `harness faults`) are derived
//   - schedule.go: target rules, steps and the seeded plan
//   - rules.go: looking rules up, and what they need
//   - executor.go: applying, healing and targets, with the Node and Agent
//     interfaces the executor needs
//   - links.go: bad links both ways, for loss and delay
//
// Agent declares exactly the calls the kinds make. *agent.Client is the
// real one (Adapt wraps a node that returns it), and the tests use an
// in-memory twin (fake_agent_test.go).
//
// docs/faults.md, "Adding a fault", lists every place a new kind touches.
package nemesis
