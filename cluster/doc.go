// Package cluster owns the backends that start nodes. The Docker backend
// (testcontainers-go) makes one private network per run with static
// addresses, builds the FROM-scratch node image locally (no registry),
// labels everything it creates and removes it on every exit path; Clean
// removes what a killed run left behind.
package cluster
