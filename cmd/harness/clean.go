package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/cluster"
)

func cleanCmd() *cobra.Command {
	var opts cluster.CleanOptions
	c := &cobra.Command{
		Use:   "clean [--dry-run] [--older-than DURATION] [--run ID [--force]]",
		Short: "Remove the containers and networks of runs whose harness is gone (killed or crashed)",
		Long: `Remove the containers and networks that runs left behind, and only those
of runs whose owner is gone. Every run labels what it creates with its owner:
host name, PID and the process's start time (field 22 of /proc/PID/stat, so a
PID reused by another process is not taken for the owner). A run is removed
when its owner was a process of this host that has exited; a run whose owner
runs is left, and so is another host's run, or one that names no owner (an
older harness), unless --older-than says it is old. Every run found is listed,
removed or left, with why. Removing a live run takes --run ID --force.
Built images are kept (a cache).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Force && opts.Run == "" {
				return setupError("--force needs --run ID: a live run is removed only by name")
			}
			if opts.OlderThan < 0 {
				return setupError("--older-than %v: want a positive duration", opts.OlderThan)
			}
			backend, err := newBackend(cmd)
			if err != nil {
				return setupError("%v", err)
			}
			rep, err := backend.Clean(cmd.Context(), opts)
			fmt.Println(rep)
			if err != nil {
				return setupError("cleaning: %v", err)
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.BoolVar(&opts.DryRun, "dry-run", false, "list what would be removed and what left, and why; remove nothing")
	fl.DurationVar(&opts.OlderThan, "older-than", 0, "also remove runs created longer ago than this whose owner cannot be checked from here (another host's, or none recorded)")
	fl.StringVar(&opts.Run, "run", "", "consider only this run")
	fl.BoolVar(&opts.Force, "force", false, "with --run: remove it even though its owner runs")
	return c
}

// newBackend is the backend the harness's commands use: the Docker
// engine DOCKER_HOST or the Docker context names.
func newBackend(cmd *cobra.Command) (cluster.Backend, error) {
	return cluster.NewDocker(cmd.Context(), cluster.DockerOptions{})
}
