package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/nemesis"
)

// rolling separates the two versions of --version FROM..TO.
const rolling = ".."

// Versions are the server versions of --version, in order: with A,B,...
// members take them in turn (n1 the first, n2 the second, ...); with
// FROM..TO every member starts on FROM (a rolling move of a uniform
// cluster). The last is the final version, which every member ends the
// run on. One version is an ordinary run; "" (an --image) none.
func (c Config) Versions() []string {
	if c.Version == "" {
		return nil
	}
	sep := ","
	if strings.Contains(c.Version, rolling) {
		sep = rolling
	}
	var out []string
	for _, v := range strings.Split(c.Version, sep) {
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

// MemberVersion is the version member i (from 0) starts on.
func (c Config) MemberVersion(i int) string {
	vs := c.Versions()
	switch {
	case len(vs) == 0:
		return ""
	case strings.Contains(c.Version, rolling):
		return vs[0]
	}
	return vs[i%len(vs)]
}

// mixed says whether the run has members of several versions.
func (c Config) mixed() bool { return len(distinct(c.Versions())) > 1 }

func distinct(vs []string) []string {
	var out []string
	for _, v := range vs {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// checkVersions refuses a --version list the run cannot carry out:
// several versions need a built server of each, a database whose members
// can move between them (db.Upgrades) and moves it allows; the upgrade
// fault needs two versions.
func (c *Config) checkVersions(d db.DB) error {
	vs := c.Versions()
	for _, v := range vs {
		if err := db.ValidVersion(v); err != nil {
			return fmt.Errorf("--version: %w", err)
		}
	}
	versions := distinct(vs)
	if nemesis.NeedsVersions(c.Nemesis) && len(versions) < 2 {
		return fmt.Errorf("--nemesis %s moves members between versions: give two, --version OLD,NEW (members take them in turn and end the run on the last)", nemesis.KindUpgrade)
	}
	if len(versions) < 2 {
		return nil
	}
	if c.Binary != "" || c.FromImage != "" {
		return errors.New("--version with several versions builds each: leave out --binary and --image")
	}
	up, ok := d.(db.Upgrades)
	if !ok {
		return fmt.Errorf("--version %s: %s members cannot move between versions here", c.Version, d.Name())
	}
	final := vs[len(vs)-1]
	for _, v := range versions {
		if v == final {
			continue
		}
		// Members of v run beside members of final, move up to it, and
		// the upgrade fault moves members of final to v and back.
		for _, move := range [][2]string{{v, final}, {final, v}} {
			if err := up.CheckMove(move[0], move[1]); err != nil {
				return fmt.Errorf("--version %s: %w", c.Version, err)
			}
		}
	}
	return nil
}

// serverPath is where a run of several versions keeps version's server
// in the node image: beside the one path a single version uses.
func serverPath(path, version string) string { return path + "-" + version }

// memberVersions is which version each member of a run of several runs,
// and moves members between them for the nemesis (nemesis.Versions)
// through the database's Upgrades. The argv each member was last started
// with is kept, so that a move keeps every flag but the server's path
// (a rejoined member's too).
type memberVersions struct {
	up      db.Upgrades
	members []db.Member
	list    []string
	path    string // the database's ServerPath

	mu   sync.Mutex
	on   map[string]string
	argv map[string][]string
}

var _ nemesis.Versions = (*memberVersions)(nil)

// newMemberVersions is nil for a run of one version.
func newMemberVersions(cfg Config, d db.DB, members []db.Member) *memberVersions {
	up, ok := d.(db.Upgrades)
	if !cfg.mixed() || !ok {
		return nil
	}
	v := &memberVersions{up: up, members: members, list: cfg.Versions(), path: d.ServerPath(), on: map[string]string{}, argv: map[string][]string{}}
	for i, m := range members {
		v.on[m.Name] = cfg.MemberVersion(i)
		v.argv[m.Name] = memberArgv(d.MemberCommand(m, members, memberDataDir), v.path, cfg.MemberVersion(i))
	}
	return v
}

// memberArgv is argv with its server (argv[0], the database's
// ServerPath) the one of version.
func memberArgv(argv []string, path, version string) []string {
	out := slices.Clone(argv)
	if len(out) > 0 && out[0] == path {
		out[0] = serverPath(path, version)
	}
	return out
}

func (v *memberVersions) Final() string { return v.list[len(v.list)-1] }

func (v *memberVersions) Of(member string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.on[member]
}

// Other is the first version of --version that is not the final one.
func (v *memberVersions) Other(member string) string {
	for _, ver := range v.list {
		if ver != v.Final() {
			return ver
		}
	}
	return v.Final()
}

func (v *memberVersions) member(name string) (db.Member, error) {
	for _, m := range v.members {
		if m.Name == name {
			return m, nil
		}
	}
	return db.Member{}, fmt.Errorf("no member %q", name)
}

func (v *memberVersions) Prepare(ctx context.Context, member, to string) ([]string, error) {
	m, err := v.member(member)
	if err != nil {
		return nil, err
	}
	if err := v.up.BeforeMove(ctx, v.members, m, v.Of(member), to); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	argv := slices.Clone(v.argv[member])
	argv[0] = serverPath(v.path, to)
	return argv, nil
}

func (v *memberVersions) Moved(ctx context.Context, member, to string) error {
	m, err := v.member(member)
	if err != nil {
		return err
	}
	v.mu.Lock()
	from := v.on[member]
	v.on[member] = to
	v.argv[member][0] = serverPath(v.path, to)
	v.mu.Unlock()
	return v.up.AfterMove(ctx, v.members, m, from, to)
}

// rejoined keeps the argv a rejoined member was started with, on its
// version's server, and returns it.
func (v *memberVersions) rejoined(member string, argv []string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	argv = memberArgv(argv, v.path, v.on[member])
	v.argv[member] = argv
	return argv
}
