// Package agent is the in-node supervisor: every node container's
// entrypoint is the harness binary in agent mode. The agent starts and
// supervises the real process (a database member or a campaigner), relays
// a campaigner's stdio, and carries out faults on request: partitions and
// packet loss (nftables through netlink, drop only), pauses
// (SIGSTOP/SIGCONT), kills and restarts, and clock skew of the process
// (package clock). It also dials from inside the node, which tests use to
// prove what a fault does. Client is the harness-side handle to one agent.
// (Freezing a whole node is the backend's: a frozen agent cannot answer.)
package agent
