package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

// engineFailures is how many polls in a row must fail before the engine
// counts as gone (a busy daemon can miss one).
const engineFailures = 3

// Watch implements Watcher by polling the run's containers.
func (c *dockerCluster) Watch(ctx context.Context, interval time.Duration) <-chan Lost {
	out := make(chan Lost, 1)
	go func() {
		defer close(out)
		f := filters.NewArgs(filters.Arg("label", LabelRun+"="+c.runID))
		t := time.NewTicker(interval)
		defer t.Stop()
		failures := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			ctrs, err := c.d.cli.ContainerList(lctx, container.ListOptions{All: true, Filters: f})
			cancel()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				if failures++; failures >= engineFailures {
					out <- Lost{Run: c.runID, At: time.Now(),
						What: fmt.Sprintf("the Docker engine at %v stopped answering (%v) during run %s", c.d.engine, err, c.runID)}
					return
				}
				continue
			}
			failures = 0
			if l, ok := c.lost(ctrs); ok {
				out <- l
				return
			}
		}
	}()
	return out
}

// lost finds a node whose container is missing from ctrs, being
// removed, or not running (paused is running: a freeze fault).
func (c *dockerCluster) lost(ctrs []container.Summary) (Lost, bool) {
	byID := map[string]container.Summary{}
	for _, ct := range ctrs {
		byID[ct.ID] = ct
	}
	for _, n := range c.nodes {
		if n == nil {
			continue
		}
		name := fmt.Sprintf("eh-%s-%s", c.runID, n.name)
		ct, ok := byID[n.ctr.GetContainerID()]
		switch {
		case !ok || ct.State == "removing":
			// A container being removed is as gone as one already removed;
			// which of the two a poll sees is a race with the engine.
			return Lost{Run: c.runID, Node: n.name, Container: name, At: time.Now(),
				What: fmt.Sprintf("container %s (node %s) of run %s disappeared", name, n.name, c.runID)}, true
		case ct.State != "running" && ct.State != "paused":
			return Lost{Run: c.runID, Node: n.name, Container: name, At: time.Now(),
				What: fmt.Sprintf("container %s (node %s) of run %s is %s (%s)", name, n.name, c.runID, ct.State, ct.Status)}, true
		}
	}
	return Lost{}, false
}
