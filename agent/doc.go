// Package agent is the in-node supervisor: every node container's
// entrypoint is the harness binary in agent mode. The agent starts and
// supervises the real process (a database member or a campaigner), relays
// a campaigner's stdio, and carries out faults on request: partitions
// (nftables through netlink, drop only), pauses (SIGSTOP/SIGCONT), kills
// and restarts. Client is the harness-side handle to one agent.
package agent
