// Package kube owns what a run needs to elect through the Kubernetes
// API: kube-apiserver nodes in front of the database's members, the
// recipes that run client-go's leader election on a coordination.k8s.io
// Lease through them, and the reading of the Lease back from the store
// as the election's record.
//
//   - build.go: kube-apiserver built from the published k8s.io/kubernetes
//     module and its staging modules, cached like the databases.
//   - certs.go: the run's certificate authority, the apiservers' serving
//     certificate, the service-account key and the clients' certificate.
//   - apiserver.go: an apiserver node's command line, its URL, and its
//     readiness (the run waits for it and probes it).
//   - objects.go: the names of a run's objects (its Lease, its register
//     ConfigMaps and annotations) and the history keys they map to.
//   - recipes.go: k8s-leaderelection (client-go's LeaderElector on a
//     LeaseLock, the leader's write an unconditional ConfigMap update)
//     and k8s-leaderelection-fenced (the write an update of the Lease
//     itself at the resourceVersion that names the writer).
//   - record.go: the store's record of the apiserver's objects read as
//     the election's: each change of the Lease's holder a term, each
//     register write a register put.
package kube
