package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
)

// CleanOptions says which runs Clean may remove. By default only runs
// whose owner is known to be gone: this host's process that created
// them has exited. A run that is running, or whose owner is on another
// host or unknown, is left.
type CleanOptions struct {
	// OlderThan (> 0) also removes runs created longer ago than this
	// whose owner cannot be checked from here (another host's, or a run
	// that names no owner). A run whose owner runs here is never
	// removed for its age.
	OlderThan time.Duration
	// Run limits Clean to one run.
	Run string
	// Force removes Run even when its owner is running (or unknown).
	Force bool
	// DryRun decides and reports, and removes nothing.
	DryRun bool
}

// RunCleaned is one run Clean found, what it did with it and why.
type RunCleaned struct {
	Run                  string
	Containers, Networks []string // names
	Created              time.Time
	Removed              bool
	Why                  string
}

// CleanReport says what Clean removed and what it left.
type CleanReport struct {
	DryRun bool
	Runs   []RunCleaned
	// Phantoms are networks with no container that the daemon will not
	// remove: it kept an endpoint of a removed container (a daemon bug;
	// restarting dockerd drops them). They hold nothing of a run.
	Phantoms []string
}

func (r CleanReport) String() string {
	var b strings.Builder
	verb := "removed"
	if r.DryRun {
		verb = "would remove"
	}
	var removed, left int
	for _, run := range r.Runs {
		what := fmt.Sprintf("%d container(s), %d network(s)", len(run.Containers), len(run.Networks))
		if run.Removed {
			removed++
			fmt.Fprintf(&b, "%s run %s (%s): %s\n", verb, run.Run, what, run.Why)
		} else {
			left++
			fmt.Fprintf(&b, "left run %s (%s): %s\n", run.Run, what, run.Why)
		}
	}
	fmt.Fprintf(&b, "%s %d run(s), left %d", verb, removed, left)
	if len(r.Phantoms) > 0 {
		fmt.Fprintf(&b, "; %d network(s) with no container that the daemon will not remove (a phantom endpoint; restart dockerd to drop them): %s",
			len(r.Phantoms), strings.Join(r.Phantoms, ", "))
	}
	return b.String()
}

// Removed lists the run IDs Clean removed (or would remove).
func (r CleanReport) Removed() []string {
	var out []string
	for _, run := range r.Runs {
		if run.Removed {
			out = append(out, run.Run)
		}
	}
	return out
}

// PhantomNetworkError is a run's network that has no container left
// but that the Docker daemon will not remove ("has active endpoints"
// long after its last container went): a daemon bug, not the run's
// leftover. Nothing of the run is left running on it.
type PhantomNetworkError struct{ Network string }

func (e *PhantomNetworkError) Error() string {
	return fmt.Sprintf("network %s has no container left, but the Docker daemon will not remove it (a phantom endpoint, a daemon bug: `harness clean` lists it; restarting dockerd drops it)", e.Network)
}

// OnlyPhantoms says whether err (joined errors, each maybe wrapped) is
// made of PhantomNetworkErrors alone.
func OnlyPhantoms(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !OnlyPhantoms(e) {
				return false
			}
		}
		return true
	}
	var p *PhantomNetworkError
	return errors.As(err, &p)
}

// phantom reports whether a network that refused removal has no
// container left: the daemon kept the endpoint of a removed one.
func (d *Docker) phantom(ctx context.Context, id string, removeErr error) bool {
	if removeErr == nil || !strings.Contains(removeErr.Error(), "active endpoints") {
		return false
	}
	n, err := d.cli.NetworkInspect(ctx, id, network.InspectOptions{})
	return err == nil && len(n.Containers) == 0
}

// runObjects are one run's containers and networks on the daemon.
type runObjects struct {
	id         string
	labels     map[string]string // of the first object seen
	ctrs       []container.Summary
	nets       []network.Summary
	created    time.Time
	ownerMixed bool // objects naming different owners
}

// Clean removes the containers and networks of runs whose owner is
// gone (see CleanOptions), and reports every run it found, removed or
// left, and why. Built images are kept: they are a cache.
func (d *Docker) Clean(ctx context.Context, opts CleanOptions) (CleanReport, error) {
	rep := CleanReport{DryRun: opts.DryRun}
	args := []filters.KeyValuePair{filters.Arg("label", LabelHarness+"=1")}
	if opts.Run != "" {
		args = append(args, filters.Arg("label", LabelRun+"="+opts.Run))
	}
	f := filters.NewArgs(args...)
	ctrs, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return rep, fmt.Errorf("listing containers: %w", err)
	}
	nets, err := d.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return rep, fmt.Errorf("listing networks: %w", err)
	}
	runs := map[string]*runObjects{}
	get := func(labels map[string]string, created time.Time) *runObjects {
		id := labels[LabelRun]
		r := runs[id]
		if r == nil {
			r = &runObjects{id: id, labels: labels, created: created}
			runs[id] = r
		}
		if o1, ok1 := OwnerFromLabels(r.labels); ok1 {
			if o2, ok2 := OwnerFromLabels(labels); !ok2 || o1 != o2 {
				r.ownerMixed = true
			}
		}
		if created.Before(r.created) {
			r.created = created
		}
		return r
	}
	for _, c := range ctrs {
		r := get(c.Labels, time.Unix(c.Created, 0))
		r.ctrs = append(r.ctrs, c)
	}
	for _, n := range nets {
		r := get(n.Labels, n.Created)
		r.nets = append(r.nets, n)
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(runs)) {
		r := runs[id]
		remove, why := decide(r, opts, time.Now())
		rc := RunCleaned{Run: id, Created: r.created, Removed: remove, Why: why}
		if rc.Run == "" {
			rc.Run = "(no run id)"
		}
		for _, c := range r.ctrs {
			rc.Containers = append(rc.Containers, strings.TrimPrefix(firstName(c.Names), "/"))
		}
		for _, n := range r.nets {
			rc.Networks = append(rc.Networks, n.Name)
		}
		rep.Runs = append(rep.Runs, rc)
		if !remove || opts.DryRun {
			continue
		}
		phantoms, err := d.removeRun(ctx, r)
		rep.Phantoms = append(rep.Phantoms, phantoms...)
		if err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", id, err))
		}
	}
	return rep, errors.Join(errs...)
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// decide says whether Clean removes a run, and why.
func decide(r *runObjects, opts CleanOptions, now time.Time) (bool, string) {
	age := now.Sub(r.created).Truncate(time.Second)
	old := opts.OlderThan > 0 && age > opts.OlderThan
	forced := opts.Force && opts.Run != "" && opts.Run == r.id
	owner, ok := OwnerFromLabels(r.labels)
	switch {
	case !ok:
		why := "names no owner (made by an older harness), so nothing says whether it runs"
		if forced {
			return true, why + "; --force"
		}
		if old {
			return true, fmt.Sprintf("%s; created %v ago, older than --older-than %v", why, age, opts.OlderThan)
		}
		return false, why + "; --older-than DURATION removes it once old, or --run " + r.id + " --force"
	case r.ownerMixed:
		if forced {
			return true, "its objects name different owners; --force"
		}
		return false, "its objects name different owners; --run " + r.id + " --force removes it"
	}
	live, why := owner.Check()
	switch live {
	case OwnerGone:
		return true, why
	case OwnerAlive:
		if forced {
			return true, why + "; --force"
		}
		return false, why + " (a live run: only --run " + r.id + " --force removes it)"
	default: // another host's
		if forced {
			return true, why + "; --force"
		}
		if old {
			return true, fmt.Sprintf("%s; created %v ago, older than --older-than %v", why, age, opts.OlderThan)
		}
		return false, fmt.Sprintf("%s; created %v ago; --older-than DURATION removes it once old", why, age)
	}
}

// removeRun removes a run's containers, then its networks; it returns
// the networks the daemon will not remove though they hold nothing.
func (d *Docker) removeRun(ctx context.Context, r *runObjects) ([]string, error) {
	var errs []error
	var phantoms []string
	for _, c := range r.ctrs {
		if c.State == "paused" {
			_ = d.cli.ContainerUnpause(ctx, c.ID) // a frozen container does not stop
		}
		// A stuck stalling filesystem would keep it from dying.
		abortErr := abortContainerFUSE(ctx, d.cli, c.ID)
		if err := d.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("removing container %s: %w", c.ID[:12], errors.Join(err, abortErr)))
		}
	}
	for _, n := range r.nets {
		if err := d.cli.NetworkRemove(ctx, n.ID); err != nil && !isNotFound(err) {
			if d.phantom(ctx, n.ID, err) {
				phantoms = append(phantoms, n.Name)
				continue
			}
			errs = append(errs, fmt.Errorf("removing network %s: %w", n.Name, err))
		}
	}
	return phantoms, errors.Join(errs...)
}
