// Package agent is the in-node supervisor: every node container's
// entrypoint is the harness binary in agent mode. The agent starts and
// supervises the real process (a database member or a campaigner), relays
// a campaigner's stdio, and carries out faults on request: partitions and
// packet loss (nftables through netlink, drop only), pauses
// (SIGSTOP/SIGCONT), kills and restarts, and clock skew of the process
// (package clock). It also dials from inside the node, which tests use to
// prove what a fault does. Client is the harness-side handle to one agent.
// (Freezing a whole node is the backend's: a frozen agent cannot answer.)
//
// The control API is one table, routes.go: a row per method and path
// (the Path constants of api.go, which the Client calls too), so a fault
// the agent learns is a POST row that applies it, a DELETE row that
// heals it, and the Client methods that call them.
package agent
