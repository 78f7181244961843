// Package agent is the in-node supervisor. Every node container's
// entrypoint is the harness binary in agent mode. The agent starts and
// supervises the real process (a database member or a campaigner),
// relays a campaigner's stdio, and carries out faults on request. It also
// dials from inside the node, which tests use to prove what a fault does.
// Freezing and throttling a whole node are the backend's, since they
// would stop the agent too.
//
// The files hold one part each:
//
//   - agent.go: Run, which starts the process and serves the control API
//   - api.go: the control API's paths, requests and replies
//   - routes.go: the control API as one table, a row per method and path
//   - client.go: Client, the harness-side handle to one agent
//   - supervisor.go: starting, restarting, pausing and killing the process
//   - relay.go: a campaigner's stdio over a TCP connection
//   - firewall.go: partitions and packet loss (nftables through netlink,
//     drop only)
//   - delay.go: packets held on a TUN device, since netem may be missing
//   - skew.go: the process's clocks skewed (package clock does the work)
//   - stall.go: a member's fsyncs held by a FUSE passthrough filesystem
//   - unsynced.go: a power loss that undoes the writes not yet synced
//
// A fault the agent learns is a POST row in routes.go that applies it, a
// DELETE row that heals it, and the Client methods that call them.
package agent
