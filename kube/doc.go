// Package kube owns the kube-apiserver nodes a run puts in front of its
// etcd members, for recipes that elect through the Kubernetes API
// (client-go's leader election on a coordination.k8s.io Lease).
//
//   - build.go: kube-apiserver built from the published k8s.io/kubernetes
//     module and its staging modules, cached like the databases.
//   - certs.go: the run's certificate authority, the apiservers' serving
//     certificate, the service-account key and the clients' certificate.
//   - apiserver.go: an apiserver node's command line.
package kube
