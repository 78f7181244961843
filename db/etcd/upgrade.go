package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/internal/wait"
)

// DB implements db.Upgrades. etcd's members move between versions on
// their data, by rolling upgrades and downgrades.
var _ db.Upgrades = DB{}

// semver is the part of a module version ("v3.6.16") that etcd's
// version rules look at.
type semver struct{ major, minor, patch int }

func parseVersion(v string) (semver, error) {
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return semver{}, fmt.Errorf("version %q is not of the form vX.Y.Z", v)
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil {
			return semver{}, fmt.Errorf("version %q is not of the form vX.Y.Z", v)
		}
		n[i] = x
	}
	return semver{n[0], n[1], n[2]}, nil
}

func (s semver) minorLess(o semver) bool {
	return s.major < o.major || (s.major == o.major && s.minor < o.minor)
}

// cluster is the cluster version etcd reports for servers of s: "3.6.0".
func (s semver) cluster() string { return fmt.Sprintf("%d.%d.0", s.major, s.minor) }

// CheckMove follows etcd's upgrade and downgrade guides. A move goes one
// minor version at a time, within v3 and from v3.5 on. That is this
// driver's range, and the downgrade API, which a move below the cluster
// version needs, arrived in v3.5. A move between v3.5 and v3.6 needs
// v3.5.20 or later, which fixed the membership data that made upgrades to
// v3.6 fail (etcd issue 19557).
func (DB) CheckMove(from, to string) error {
	f, err := parseVersion(from)
	if err != nil {
		return err
	}
	t, err := parseVersion(to)
	if err != nil {
		return err
	}
	for _, v := range []struct {
		s    semver
		name string
	}{{f, from}, {t, to}} {
		if v.s.major != 3 || v.s.minor < 5 {
			return fmt.Errorf("etcd %s: this driver runs etcd v3.5 and later", v.name)
		}
	}
	if d := t.minor - f.minor; d > 1 || d < -1 {
		return fmt.Errorf("etcd %s to %s: etcd moves one minor version at a time (its upgrade and downgrade guides); go through each between", from, to)
	}
	lo, hi := f, t
	if t.minorLess(f) {
		lo, hi = t, f
	}
	if lo.minor == 5 && hi.minor == 6 && lo.patch < 20 {
		return fmt.Errorf("etcd %s to %s: members of v3.5 before v3.5.20 may come back as learners in v3.6 (etcd issue 19557; etcd asks for v3.5.20 or later first)", from, to)
	}
	return nil
}

// downgradePatience bounds how long a downgrade waits for the member's
// storage to follow the cluster version down.
const downgradePatience = 90 * time.Second

// BeforeMove enables the downgrade, as `etcdctl downgrade enable` does,
// when to is below the cluster version, then waits until m's storage
// version is to's: etcd's downgrade guide says not to stop a member
// before. A member's storage follows only once a snapshot covers the
// entries that set the higher cluster version (an older server replaying
// them would refuse to start), so this writes filler entries outside any
// run's prefix until m has taken one: etcd snapshots every 10000
// entries by default.
func (e DB) BeforeMove(ctx context.Context, all []db.Member, m db.Member, from, to string) error {
	t, err := parseVersion(to)
	if err != nil {
		return err
	}
	cli, err := etcdClient(e.ClientEndpoints(all))
	if err != nil {
		return err
	}
	defer cli.Close()
	cv, err := clusterVersion(ctx, all)
	if err != nil {
		return err
	}
	if !t.minorLess(cv) {
		return nil
	}
	target := fmt.Sprintf("%d.%d", t.major, t.minor)
	if _, err := cli.Downgrade(ctx, clientv3.DowngradeEnable, target); err != nil && !isEtcdError(err, rpctypes.ErrGRPCDowngradeInProcess) {
		return fmt.Errorf("enabling the downgrade to %s: %w", target, err)
	}
	mcli, err := etcdClient([]string{clientURL(m)})
	if err != nil {
		return err
	}
	defer mcli.Close()
	deadline := time.Now().Add(downgradePatience)
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := mcli.Status(sctx, clientURL(m))
		cancel()
		if err == nil && st.StorageVersion != "" {
			if sv, perr := parseVersion(st.StorageVersion); perr == nil && !t.minorLess(sv) {
				// Give the backend its commit interval (100 ms) and more,
				// so that the version is on disk before the member stops.
				wait.For(ctx, time.Second)
				return nil
			}
		}
		if time.Now().After(deadline) {
			sv := "unknown"
			if err == nil {
				sv = st.StorageVersion
			}
			return fmt.Errorf("member %s's storage version is still %s, not %s, %v after enabling the downgrade", m.Name, sv, target, downgradePatience)
		}
		if err := fill(ctx, cli, 1000); err != nil {
			return fmt.Errorf("writing entries for a snapshot of %s: %w", m.Name, err)
		}
	}
}

// fillerKey is written to make members snapshot: outside every run's
// prefix, so no record or checker sees it.
const fillerKey = "/election-harness/snapshot-filler"

// fill writes n entries, 16 at a time.
func fill(ctx context.Context, cli *clientv3.Client, n int) error {
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := cli.Put(pctx, fillerKey, strconv.Itoa(i))
				cancel()
				if err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// movePatience bounds the wait for a moved member to serve again.
const movePatience = 60 * time.Second

// AfterMove waits until m reports serving to (its /version), then
// cancels a downgrade that m moved back above, as `etcdctl downgrade
// cancel` does: a downgrade left enabled keeps the cluster version down
// when every member is back on the newer version.
func (e DB) AfterMove(ctx context.Context, all []db.Member, m db.Member, from, to string) error {
	t, err := parseVersion(to)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(movePatience)
	for {
		v, err := readVersions(ctx, m)
		if err == nil && v.Server == strings.TrimPrefix(to, "v") {
			break
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("it serves %s", v.Server)
			}
			return fmt.Errorf("member %s not serving %s %v after its restart: %w", m.Name, to, movePatience, err)
		}
		if !wait.For(ctx, 250*time.Millisecond) {
			return ctx.Err()
		}
	}
	cv, err := clusterVersion(ctx, all)
	if err != nil || !cv.minorLess(t) {
		return nil // nothing a downgrade could hold down
	}
	cli, err := etcdClient(e.ClientEndpoints(all))
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.Downgrade(ctx, clientv3.DowngradeCancel, ""); err != nil && !isEtcdError(err, rpctypes.ErrGRPCNoInflightDowngrade) {
		return fmt.Errorf("cancelling the downgrade: %w", err)
	}
	return nil
}

// CheckVersions waits until every member serves want and reports want's
// cluster version (the leader raises it within seconds of the last
// member's move), cancelling a downgrade still in progress above want.
func (e DB) CheckVersions(ctx context.Context, all []db.Member, want string) (string, error) {
	w, err := parseVersion(want)
	if err != nil {
		return "", err
	}
	server, cluster := strings.TrimPrefix(want, "v"), w.cluster()
	cancelled := false
	for {
		var got []string
		var wrong error
		for _, m := range all {
			v, err := readVersions(ctx, m)
			switch {
			case err != nil:
				wrong = fmt.Errorf("member %s: %w", m.Name, err)
			case v.Server != server || v.Cluster != cluster:
				wrong = fmt.Errorf("member %s serves %s with cluster version %s, not %s with %s", m.Name, v.Server, v.Cluster, server, cluster)
			}
			got = append(got, fmt.Sprintf("%s %s (cluster %s)", m.Name, v.Server, v.Cluster))
		}
		if wrong == nil {
			return fmt.Sprintf("every member serves %s; cluster version %s: %s", want, cluster, strings.Join(got, ", ")), nil
		}
		if !cancelled {
			if cv, err := clusterVersion(ctx, all); err == nil && cv.minorLess(w) {
				if cli, err := etcdClient(e.ClientEndpoints(all)); err == nil {
					cli.Downgrade(ctx, clientv3.DowngradeCancel, "")
					cli.Close()
				}
				cancelled = true
			}
		}
		if !wait.For(ctx, 500*time.Millisecond) {
			return strings.Join(got, ", "), wrong
		}
	}
}

// versions is etcd's /version.
type versions struct {
	Server  string `json:"etcdserver"`
	Cluster string `json:"etcdcluster"`
}

var versionHTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}

// readVersions reads m's /version: its server version and the cluster
// version it knows.
func readVersions(ctx context.Context, m db.Member) (versions, error) {
	var v versions
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientURL(m)+"/version", nil)
	if err != nil {
		return v, err
	}
	resp, err := versionHTTP.Do(req)
	if err != nil {
		return v, fmt.Errorf("reading its version: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("reading its version: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return v, fmt.Errorf("decoding its version: %w", err)
	}
	return v, nil
}

// clusterVersion is the highest cluster version a member reports (a
// member that has not caught up reports an older one).
func clusterVersion(ctx context.Context, all []db.Member) (semver, error) {
	var best semver
	var errs []error
	found := false
	for _, m := range all {
		v, err := readVersions(ctx, m)
		if err == nil && v.Cluster != "" && v.Cluster != "not_decided" {
			cv, perr := parseVersion(v.Cluster)
			if perr == nil && (!found || best.minorLess(cv)) {
				best, found = cv, true
			}
			continue
		}
		errs = append(errs, err)
	}
	if !found {
		return best, fmt.Errorf("no member reports its cluster version: %w", errors.Join(errs...))
	}
	return best, nil
}

// isEtcdError says whether err, as the client returns it, is etcd's
// error grpcErr.
func isEtcdError(err, grpcErr error) bool {
	return err != nil && rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(grpcErr)
}
