package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/cluster"
	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/kube"
	"github.com/election-harness/harness/nemesis"
	"github.com/election-harness/harness/run"
)

// TestKubeAPIServerOverEtcd starts kube-apiserver, built from the
// published modules, as a node in front of a real 3-member etcd
// cluster: it becomes ready, and a coordination.k8s.io Lease written
// through it is stored in the run's etcd under /registry/leases/.
func TestKubeAPIServerOverEtcd(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	certs, err := kube.NewCerts(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin, err := kube.Build(ctx, kube.DefaultVersion, db.DefaultCacheDir(), io.Discard)
	if err != nil {
		t.Fatalf("building kube-apiserver %s: %v", kube.DefaultVersion, err)
	}
	docker, err := cluster.NewDocker(ctx, cluster.DockerOptions{})
	if err != nil {
		t.Fatalf("connecting to Docker: %v", err)
	}
	d := etcd.DB{}
	prep, err := run.PrepareImage(ctx, docker, d, run.Source{Version: d.DefaultVersion(), KubeAPIServer: bin}, db.DefaultCacheDir(), harnessBin, io.Discard)
	if err != nil {
		t.Fatalf("preparing the image: %v", err)
	}
	spec := run.ClusterSpec(run.Config{Image: prep.Name, Nodes: 3, RunID: fmt.Sprintf("kube%d", time.Now().UnixNano()%1e6),
		Recipe: "etcd-election", TTL: run.Duration(3 * time.Second), ElectionPrefix: "/eh/k/election/"}, d)
	members := func(addrs map[string]netip.Addr) []db.Member {
		var ms []db.Member
		for _, n := range []string{"n1", "n2", "n3"} {
			ms = append(ms, db.Member{Name: n, IP: addrs[n]})
		}
		return ms
	}
	spec.Nodes = append(spec.Nodes, cluster.NodeSpec{Name: "a1", Role: cluster.RoleAPIServer, DataDir: "/data", Files: certs.Files(),
		Command: func(addrs map[string]netip.Addr) []string {
			return kube.Command(addrs["a1"], d.KubeStorageFlags(members(addrs)))
		}})
	cl, err := docker.Start(ctx, spec)
	if err != nil {
		t.Fatalf("starting the cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := cl.Close(ctx); err != nil {
			t.Errorf("removing the cluster: %v", err)
		}
	})
	addrs := map[string]netip.Addr{}
	nodes := map[string]cluster.Node{}
	for _, n := range cl.Nodes() {
		addrs[n.Name()], nodes[n.Name()] = n.IP(), n
	}
	tlsConfig, err := certs.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	base := fmt.Sprintf("https://%s", netip.AddrPortFrom(addrs["a1"], kube.Port))
	// do sends one request and returns its status and body.
	do := func(method, path, body string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	var last string
	ready := false
	for deadline := time.Now().Add(2 * time.Minute); !ready && time.Now().Before(deadline); time.Sleep(time.Second) {
		code, body, err := do(http.MethodGet, "/readyz", "")
		ready = err == nil && code == http.StatusOK
		last = fmt.Sprintf("%d %s %v", code, body, err)
	}
	if !ready {
		if logs, err := nodes["a1"].Logs(ctx); err == nil {
			lines := strings.Split(string(logs), "\n")
			for _, l := range lines[max(0, len(lines)-30):] {
				t.Log(l[:min(len(l), 300)])
			}
		}
		t.Fatalf("kube-apiserver not ready: %s", last)
	}
	lease := `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"eh-probe"},"spec":{"holderIdentity":"c1","leaseDurationSeconds":15}}`
	created := false
	for deadline := time.Now().Add(30 * time.Second); !created && time.Now().Before(deadline); time.Sleep(time.Second) {
		code, body, err := do(http.MethodPost, "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease)
		created = err == nil && code == http.StatusCreated
		last = fmt.Sprintf("%d %s %v", code, body, err)
	}
	if !created {
		t.Fatalf("creating a Lease through the apiserver: %s", last)
	}
	code, body, err := do(http.MethodGet, "/apis/coordination.k8s.io/v1/namespaces/default/leases/eh-probe", "")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"holderIdentity":"c1"`) {
		t.Fatalf("reading the Lease back: %d %s %v", code, body, err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: d.ClientEndpoints(members(addrs)), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := cli.Get(gctx, "/registry/leases/default/eh-probe")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("the Lease in etcd: %v, %v", resp, err)
	}
	// The apiserver stores objects as protobuf behind its "k8s" magic.
	if v := resp.Kvs[0].Value; !bytes.HasPrefix(v, []byte("k8s\x00")) || !bytes.Contains(v, []byte("c1")) {
		t.Errorf("the Lease's value in etcd is %q, want the apiserver's protobuf naming holder c1", v[:min(len(v), 80)])
	}
}

// TestKubeLeaderElectionRun runs client-go's leader election, fenced,
// through two apiserver nodes under faults of the apiservers and of the
// election leader: the run is VALID, every apiserver fault was applied
// to an apiserver node, the apiservers were probed and their logs kept,
// and the report draws their rows.
func TestKubeLeaderElectionRun(t *testing.T) {
	needDocker(t)
	store := t.TempDir()
	r := harness(t, "run", "--db", "etcd", "--recipe", "k8s-leaderelection-fenced", "--apiservers", "2",
		"--nemesis", "pause,partition:isolate-apiserver,kill:random-apiserver", "--time-limit", "40s", "--seed", "1", "--store", store)
	t.Logf("stdout:\n%s\nstderr tail:\n%s", r.stdout, tail(r.stderr, 2000))
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (VALID)", r.code)
	}
	dir := latestRun(t, store)
	checkCounts(t, readResults(t, dir))
	history, err := histories.ReadFile(filepath.Join(dir, histories.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	onAPIServers := 0
	for _, e := range history.Events {
		if e.F == histories.FServing && e.Type == histories.OK {
			served[strings.TrimPrefix(e.Process, "probe:")] = true
		}
		if e.F == histories.FFaultStart && e.Fault != nil && e.Fault.Params["rule"] != nemesis.TargetElectionLeader && e.Fault.Kind != nemesis.KindPause {
			for _, target := range e.Fault.Targets {
				if !strings.HasPrefix(target, "a") {
					t.Errorf("fault %s:%s hit %s, not an apiserver node", e.Fault.Kind, e.Fault.Params["rule"], target)
				}
			}
			onAPIServers++
		}
	}
	if !served["a1"] || !served["a2"] {
		t.Errorf("apiservers probed ready: %v, want a1 and a2", served)
	}
	if onAPIServers == 0 {
		t.Error("no fault of an apiserver node was applied")
	}
	for _, a := range []string{"a1", "a2"} {
		if b, err := os.ReadFile(filepath.Join(dir, histories.NodesDir, a+".log")); err != nil || len(b) == 0 {
			t.Errorf("apiserver %s's log was not kept: %v", a, err)
		}
	}
	report, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(report), `"group":"apiserver"`) {
		t.Errorf("the report draws no apiserver row (%v)", err)
	}
	if l := leftovers(t, dir); l != "" {
		t.Errorf("left behind: %s", l)
	}
}
