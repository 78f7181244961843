// Package cluster owns the backends that start nodes. The Docker backend
// (testcontainers-go) makes one private network per run with static
// addresses, builds the FROM-scratch node image locally (no registry), or
// makes one from an image already on the daemon that holds the database
// (ImageFrom; never pulled), labels everything it creates and removes it
// on every exit path; Clean removes what a killed run left behind and
// reports networks the daemon will not let go of.
package cluster
