// Package cluster owns the backends that start nodes, and the cleanup of
// what they leave behind.
//
// cluster.go declares what a backend does: Backend starts a Cluster from
// a Spec, and each Node offers its agent, logs and whole-node faults. The
// Docker backend (testcontainers-go) is the one implementation. It makes
// one private network per run with static addresses, and labels
// everything it creates so that it can remove it on every exit path.
//
// The files hold one part each:
//
//   - docker.go: the Docker backend, its FROM-scratch node image built
//     locally (no registry), networks, nodes, freeze and throttle
//   - image_from.go: ImageFrom, a node image made from an image already on
//     the daemon that holds the database (never pulled)
//   - engine.go: which Docker engine a run uses, and why
//   - watch.go: noticing a lost engine or a vanished node during a run
//   - owner.go: the process that owns a run's containers and networks
//   - clean.go: Clean, which removes what a killed run left behind and
//     reports networks the daemon will not let go of
package cluster
