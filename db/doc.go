// Package db owns per-database knowledge: how to build a member binary
// for a version from its published Go modules (cached by version), the
// member flags, client endpoints, how to read a member's raft term and
// leader, how to read back the store's own record of the keys a run
// used, and how an operator removes a member and adds it back (member
// loss and rejoin). One file per database (Consul: also its build and
// its record, assembled from blocking queries).
package db
