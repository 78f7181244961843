package histories

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// RunConfig is config.json: every setting of a run, and what the run
// derived from them, enough to re-check it offline and to reproduce it.
// Package run's Config is this type, with the engine's methods (flags,
// validation, the reproduce command); the store's index reads it here.
type RunConfig struct {
	Test    string    `json:"test"`
	RunID   string    `json:"run_id"`
	Started time.Time `json:"started"`
	// DB is the database's name, as its driver registers it.
	DB        string `json:"db"`
	Version   string `json:"version"`
	Binary    string `json:"binary,omitempty"`
	FromImage string `json:"from_image,omitempty"` // --image: the user's image the node image was made from
	// Image is the node image the run used.
	Image string `json:"image,omitempty"`
	// Failpoints: the server was built with failpoints (--failpoints),
	// which the failpoint fault sets.
	Failpoints bool `json:"failpoints,omitempty"`
	// Patches are the source patches the server was built with (--patch
	// NAME): a control build, cached apart from the stock one.
	Patches []string `json:"patches,omitempty"`
	// ServerLogLevel is the members' log level (--server-log-level); ""
	// is the database's default.
	ServerLogLevel string `json:"server_log_level,omitempty"`
	// SnapshotCount is how many applied entries make a member snapshot
	// and compact its raft log (--snapshot-count); 0 is the database's
	// default. Small, a follower cut off for a while catches up from a
	// snapshot instead of the log.
	SnapshotCount int `json:"snapshot_count,omitempty"`
	// FailOn is the gate policy (--fail-on): all (""), recipe or new.
	FailOn      string `json:"fail_on,omitempty"`
	Nodes       int    `json:"nodes"`
	Campaigners int    `json:"campaigners"`
	// APIServers is how many kube-apiserver nodes stand in front of the
	// members, for a recipe that elects through the Kubernetes API
	// (--apiservers); KubeVersion is their release (--kube-version).
	APIServers  int      `json:"apiservers,omitempty"`
	KubeVersion string   `json:"kube_version,omitempty"`
	Recipe      string   `json:"recipe"`
	TTL         Duration `json:"ttl"`
	// Consistency is the read consistency mode, for a database with
	// several; empty where reads are always linearizable.
	Consistency string `json:"consistency,omitempty"`
	// Options are campaigner options of the database's recipes
	// (--option NAME=VALUE), which its driver reads.
	Options map[string]string `json:"options,omitempty"`
	// Readers is how campaigners read the register: "" through every
	// member (their own client), "pinned" each through one member alone
	// (--readers pinned), campaigner i through member i mod nodes.
	Readers string `json:"readers,omitempty"`
	// HoldUntilLost is the share of terms never resigned (--hold-until-lost):
	// their leaders write until they lose the term or the run ends.
	HoldUntilLost float64 `json:"hold_until_lost,omitempty"`
	// HoldThroughStops: no leader is told to resign while a fault stops
	// or cuts it off, nor for 2×TTL after it runs again
	// (--hold-through-stops; false in runs recorded before it existed).
	HoldThroughStops bool     `json:"hold_through_stops,omitempty"`
	Nemesis          []string `json:"nemesis"`
	NemesisInterval  Duration `json:"nemesis_interval"`
	// LeaseExpiry is the store's longest lease end for TTL: stops of
	// the election leader last longer.
	LeaseExpiry    Duration `json:"lease_expiry"`
	TimeLimit      Duration `json:"time_limit"`
	Seed           int64    `json:"seed"`
	Store          string   `json:"store"`
	ElectionPrefix string   `json:"election_prefix"`
	RegisterPrefix string   `json:"register_prefix"`
	RegisterKey    string   `json:"register_key"`
	LivenessBound  Duration `json:"liveness_bound"`
	// Command reproduces the run.
	Command string `json:"command"`
	// HarnessVersion is the version of the harness that recorded the
	// run (`harness version`); "" in runs recorded before it was kept.
	HarnessVersion string `json:"harness_version"`
	// Hostname is the machine the run ran on.
	Hostname string `json:"hostname,omitempty"`
	// CacheDir holds built database binaries; not part of the run.
	CacheDir string `json:"-"`
}

// MissingForCheck names the fields of config.json the checker needs that
// are empty or zero. Judging without them would read every key as
// foreign or every lease as expired, and call a valid run invalid.
func (c RunConfig) MissingForCheck() []string {
	var missing []string
	for _, f := range []struct {
		name  string
		empty bool
	}{
		{"db", c.DB == ""},
		{"election_prefix", c.ElectionPrefix == ""},
		{"register_prefix", c.RegisterPrefix == ""},
		{"ttl", c.TTL <= 0},
		{"liveness_bound", c.LivenessBound <= 0},
	} {
		if f.empty {
			missing = append(missing, f.name)
		}
	}
	return missing
}

// Duration marshals as a Go duration string ("5s").
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"5s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ReadConfig reads a run directory's config.json.
func (d RunDir) ReadConfig() (RunConfig, error) {
	var c RunConfig
	b, err := os.ReadFile(d.Path(ConfigFile))
	if err != nil {
		return c, fmt.Errorf("reading run config: %w (is %s a run directory?)", err, d)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", d.Path(ConfigFile), err)
	}
	return c, nil
}

// WriteConfig writes a run directory's config.json.
func (d RunDir) WriteConfig(c RunConfig) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	if err := os.WriteFile(d.Path(ConfigFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	return nil
}
