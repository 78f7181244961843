package kube

import (
	"strings"
)

// Namespace holds every run's objects: it exists in a new cluster, so a
// run creates no namespace first.
const Namespace = "default"

// StoragePrefix is where kube-apiserver keeps its objects in the store
// (its --etcd-prefix default), followed by resource, namespace and name.
const StoragePrefix = "/registry/"

// Objects names one run's Kubernetes objects and maps them to the keys
// the harness's history speaks of. The run prefix is "eh/<run>/": its
// election prefix "eh/<run>/election/", its register keys under
// "eh/<run>/register/".
type Objects struct {
	// runPrefix is "eh/<run>/".
	runPrefix string
}

// ObjectsOf names the objects of the run whose election prefix is
// electionPrefix (with or without its trailing "/").
func ObjectsOf(electionPrefix string) Objects {
	p := strings.TrimSuffix(electionPrefix, "/")
	if i := strings.LastIndex(p, "/"); i >= 0 {
		p = p[:i+1]
	} else {
		p = ""
	}
	return Objects{runPrefix: p}
}

// objectName is a Kubernetes object name for a key under the run prefix:
// "eh/1a2b/register/r" is "eh-1a2b-register-r".
func objectName(key string) string {
	return strings.ToLower(strings.ReplaceAll(strings.Trim(key, "/"), "/", "-"))
}

// ElectionPrefix is the prefix of the keys that name terms.
func (o Objects) ElectionPrefix() string { return o.runPrefix + "election/" }

// RegisterPrefix is the prefix of the register's keys.
func (o Objects) RegisterPrefix() string { return o.runPrefix + "register/" }

// Lease is the name of the coordination.k8s.io Lease the campaigners
// hold.
func (o Objects) Lease() string { return objectName(o.runPrefix + "election") }

// ConfigMap is the name of the ConfigMap that holds register key.
func (o Objects) ConfigMap(key string) string { return objectName(key) }

// registerOfConfigMap is the register key a ConfigMap of this run holds,
// or false for another object.
func (o Objects) registerOfConfigMap(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, objectName(o.RegisterPrefix())+"-")
	if !ok || rest == "" {
		return "", false
	}
	return o.RegisterPrefix() + rest, true
}

// RegisterAnnotation is the Lease annotation in which the fenced recipe
// keeps register key: its write is an update of the Lease itself.
func (o Objects) RegisterAnnotation(key string) string {
	return annotationPrefix + strings.TrimPrefix(key, o.RegisterPrefix())
}

// annotationPrefix begins every register annotation.
const annotationPrefix = "election-harness.dev/register-"

// registerOfAnnotation is the register key an annotation holds, or false.
func (o Objects) registerOfAnnotation(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, annotationPrefix)
	if !ok || rest == "" {
		return "", false
	}
	return o.RegisterPrefix() + rest, true
}

// LeaseStorageKey and ConfigMapStoragePrefix are where the store keeps
// the run's Lease and register ConfigMaps.
func (o Objects) LeaseStorageKey() string {
	return StoragePrefix + "leases/" + Namespace + "/" + o.Lease()
}

func (o Objects) configMapStoragePrefix() string {
	return StoragePrefix + "configmaps/" + Namespace + "/"
}

// Identities: a campaign holds the Lease as "<value>_<nonce>", as
// kube-controller-manager holds it as "<host>_<uuid>": each campaign is a
// holder of its own, so every acquisition is a new transition.
const identitySeparator = "_"

// TermKey is the history's key of the term held by identity.
func (o Objects) TermKey(identity string) string { return o.ElectionPrefix() + identity }

// valueOf is the campaign value an identity proclaims.
func valueOf(identity string) string {
	if i := strings.LastIndex(identity, identitySeparator); i > 0 {
		return identity[:i]
	}
	return identity
}

// TermSeq is the seq of the term a Lease with transitions
// leaseTransitions names: the Lease's transitions count every change of
// holder, so each term has its own, rising; plus one, so the first
// holder's term is 1.
func TermSeq(leaseTransitions int32) int64 { return int64(leaseTransitions) + 1 }
