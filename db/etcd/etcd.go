package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
	"github.com/election-harness/harness/internal/wait"
)

// DB is the driver of etcd v3.5 and later, built from
// go.etcd.io/etcd/server/v3.
type DB struct{}

// The capabilities etcd has.
var (
	_ db.DB                = DB{}
	_ db.Membership        = DB{}
	_ db.CampaignerOptions = DB{}
)

const (
	etcdClientPort = 2379
	etcdPeerPort   = 2380
)

func (DB) Name() string           { return "etcd" }
func (DB) DefaultVersion() string { return "v3.6.16" }
func (DB) ServerPath() string     { return "/etcd" }

func (DB) Defaults() db.Defaults {
	return db.Defaults{Recipe: "etcd-election", TTL: 3 * time.Second, MinTTL: time.Second, TimeLimit: 90 * time.Second, NemesisInterval: 5 * time.Second}
}

// LeaseExpiry is the TTL and a second: the leader's lessor revokes an
// expired lease within its 500 ms check, and waiters watch the key.
func (DB) LeaseExpiry(ttl time.Duration) time.Duration { return ttl + time.Second }

// LivenessBound is twice the TTL and ten seconds. A new leader needs the
// old session to expire, perhaps a raft election, and a campaign's round
// trip.
func (DB) LivenessBound(ttl time.Duration) time.Duration { return 2*ttl + 10*time.Second }

const etcdMain = `package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
`

// Server builds etcd with a wrapper module calling etcdmain.Main: a
// static binary.
func (d DB) Server(ctx context.Context, version, cacheDir string, log io.Writer) (db.ServerImage, error) {
	bin, err := db.GoModuleBuild{Name: "etcd", Module: "go.etcd.io/etcd/server/v3", MainGo: etcdMain, Version: version}.Build(ctx, cacheDir, log)
	if err != nil {
		return db.ServerImage{}, err
	}
	return db.ServerImage{Binary: bin, PathInImage: d.ServerPath()}, nil
}

func peerURL(m db.Member) string   { return fmt.Sprintf("http://%s:%d", m.IP, etcdPeerPort) }
func clientURL(m db.Member) string { return fmt.Sprintf("http://%s:%d", m.IP, etcdClientPort) }

// MemberCommand uses etcd's default timing (100 ms heartbeats, 1 s
// election timeout): the timing users run in production.
func (DB) MemberCommand(m db.Member, all []db.Member, dataDir string) []string {
	var initial []string
	for _, o := range all {
		initial = append(initial, o.Name+"="+peerURL(o))
	}
	return etcdArgs(m, strings.Join(initial, ","), "new", dataDir)
}

func etcdArgs(m db.Member, initialCluster, state, dataDir string) []string {
	return []string{"/etcd",
		"--name", m.Name,
		"--data-dir", dataDir,
		"--listen-peer-urls", peerURL(m),
		"--initial-advertise-peer-urls", peerURL(m),
		"--listen-client-urls", clientURL(m),
		"--advertise-client-urls", clientURL(m),
		"--initial-cluster", initialCluster,
		"--initial-cluster-state", state,
		"--initial-cluster-token", "election-harness",
		"--heartbeat-interval", "100",
		"--election-timeout", "1000",
		"--logger", "zap",
		"--log-outputs", "stderr",
	}
}

// othersClient is a client of every member but m.
func (e DB) othersClient(all []db.Member, m db.Member) (*clientv3.Client, error) {
	var others []db.Member
	for _, o := range all {
		if o.Name != m.Name {
			others = append(others, o)
		}
	}
	return etcdClient(e.ClientEndpoints(others))
}

// RemoveMember is `etcdctl member remove` of m, found by its peer URL
// (a member added but not yet started has no name). Removing a member
// that is not there is done.
func (e DB) RemoveMember(ctx context.Context, all []db.Member, m db.Member) error {
	cli, err := e.othersClient(all, m)
	if err != nil {
		return err
	}
	defer cli.Close()
	list, err := cli.MemberList(ctx)
	if err != nil {
		return fmt.Errorf("listing members: %w", err)
	}
	for _, mem := range list.Members {
		if slices.Contains(mem.PeerURLs, peerURL(m)) {
			if _, err := cli.MemberRemove(ctx, mem.ID); err != nil {
				return fmt.Errorf("removing member %s (%x): %w", m.Name, mem.ID, err)
			}
		}
	}
	return nil
}

// addMemberPatience bounds the wait for etcd to accept a new member.
const addMemberPatience = 30 * time.Second

// AddMember is `etcdctl member add` of m, as a new empty member, unless
// it is there already; it returns the command line that starts m with
// --initial-cluster-state existing, as an operator would.
func (e DB) AddMember(ctx context.Context, all []db.Member, m db.Member, dataDir string) ([]string, error) {
	cli, err := e.othersClient(all, m)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	list, err := cli.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	members := list.Members
	if !slices.ContainsFunc(members, func(mem *etcdserverpb.Member) bool { return slices.Contains(mem.PeerURLs, peerURL(m)) }) {
		// etcd refuses to add a member until every member has been
		// connected for its health interval (5s): after a removal or a
		// healed partition, wait for that, as an operator would.
		deadline := time.Now().Add(addMemberPatience)
		for {
			resp, err := cli.MemberAdd(ctx, []string{peerURL(m)})
			if err == nil {
				members = resp.Members
				break
			}
			if !errors.Is(err, rpctypes.ErrUnhealthy) || time.Now().After(deadline) {
				return nil, fmt.Errorf("adding member %s: %w", m.Name, err)
			}
			if !wait.For(ctx, 500*time.Millisecond) {
				return nil, fmt.Errorf("adding member %s: %w", m.Name, ctx.Err())
			}
		}
	}
	var initial []string
	for _, mem := range members {
		name := mem.Name
		if slices.Contains(mem.PeerURLs, peerURL(m)) {
			name = m.Name
		}
		for _, u := range mem.PeerURLs {
			initial = append(initial, name+"="+u)
		}
	}
	return etcdArgs(m, strings.Join(initial, ","), "existing", dataDir), nil
}

var _ db.KubeStore = DB{}

// KubeStorageFlags point kube-apiserver at the members' client URLs;
// it keeps its objects under /registry, its default prefix.
func (e DB) KubeStorageFlags(members []db.Member) []string {
	return []string{"--etcd-servers=" + strings.Join(e.ClientEndpoints(members), ",")}
}

// awaitMemberPatience bounds AwaitMember: a new member fetches the
// leader's snapshot before it serves.
const awaitMemberPatience = time.Minute

// AwaitMember waits until m answers a status request as a voting
// member that has applied entries: it took its place in raft.
func (e DB) AwaitMember(ctx context.Context, all []db.Member, m db.Member) error {
	cli, err := etcdClient([]string{clientURL(m)})
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(awaitMemberPatience)
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := cli.Status(sctx, clientURL(m))
		cancel()
		if err == nil && !st.IsLearner && st.RaftAppliedIndex > 0 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("learner %v, applied index %d", st.IsLearner, st.RaftAppliedIndex)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for member %s to serve: %w", m.Name, err)
		}
		if !wait.For(ctx, 500*time.Millisecond) {
			return fmt.Errorf("waiting for member %s to serve: %w", m.Name, ctx.Err())
		}
	}
}

// PinsReads marks that etcd's recipes read through a client of the
// reader's member alone when pinned. etcd #20418 needs reads pinned to
// every member, the paused one too.
func (DB) PinsReads() {}

func (DB) ClientEndpoints(all []db.Member) []string {
	var eps []string
	for _, m := range all {
		eps = append(eps, clientURL(m))
	}
	return eps
}

func etcdClient(endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          2 * time.Second,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %v: %w", endpoints, err)
	}
	return cli, nil
}

func (e DB) WaitReady(ctx context.Context, all []db.Member) error {
	cli, err := etcdClient(e.ClientEndpoints(all))
	if err != nil {
		return err
	}
	defer cli.Close()
	var last error
	for {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := cli.Get(gctx, "/election-harness/ready")
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd not serving linearizable reads: %w", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// NewProbe reads the member's raft status from its /debug/vars: one
// atomic snapshot of raft's term, lead and state; and its server and
// cluster versions from its /version. (Maintenance.Status
// is no good here: its RaftTerm is the term of the last applied entry,
// which a new leader reports as the old term for a moment.)
func (DB) NewProbe(m db.Member) (db.Probe, error) {
	return &etcdProbe{member: m, url: clientURL(m) + "/debug/vars", http: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}, nil
}

type etcdProbe struct {
	member db.Member
	url    string
	http   *http.Client
}

// raftStatus is the part of raft.Status that etcd publishes as
// "raft.status" in /debug/vars.
type raftStatus struct {
	ID        string `json:"id"`
	Term      uint64 `json:"term"`
	Lead      string `json:"lead"`
	RaftState string `json:"raftState"`
}

func (p *etcdProbe) Probe(ctx context.Context) (histories.MemberStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return histories.MemberStatus{}, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return histories.MemberStatus{}, fmt.Errorf("reading raft status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return histories.MemberStatus{}, fmt.Errorf("reading raft status: %s", resp.Status)
	}
	var vars struct {
		Raft *raftStatus `json:"raft.status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		return histories.MemberStatus{}, fmt.Errorf("decoding raft status: %w", err)
	}
	if vars.Raft == nil {
		return histories.MemberStatus{}, errors.New("no raft.status in /debug/vars (member starting?)")
	}
	st := histories.MemberStatus{ID: vars.Raft.ID, Term: vars.Raft.Term, IsLeader: vars.Raft.RaftState == "StateLeader"}
	if vars.Raft.Lead != "0" {
		st.Leader = vars.Raft.Lead
	}
	// The versions are worth having, not worth failing the probe for.
	if v, err := readVersions(ctx, p.member); err == nil {
		st.Version, st.ClusterVersion = v.Server, v.Cluster
	}
	return st, nil
}

func (p *etcdProbe) Close() error { return nil }
