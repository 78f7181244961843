package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/agent"
	"github.com/election-harness/harness/agent/clock"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/workloads"
)

// agentCmd is the entry point of every node container.
func agentCmd() *cobra.Command {
	var name, data, runID string
	var stdio, stallDisk bool
	c := &cobra.Command{
		Use:    "agent --name NAME --data DIR [--run ID] [--stdio] [--stall-disk] -- COMMAND [ARG...]",
		Short:  "In-node supervisor (the entry point of every node image)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := untilStopSignal(context.Background())
			defer stop()
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the harness binary: %w", err)
			}
			cfg := agent.Config{
				ClockTracer: []string{self, "clock-tracer"},
				Name:        name,
				RunID:       runID,
				ControlAddr: fmt.Sprintf(":%d", agent.ControlPort),
				DataDir:     data,
				StallDisk:   stallDisk,
				Command:     args,
				Logger:      slog.New(slog.NewTextHandler(os.Stderr, nil)).With("node", name),
			}
			if stdio {
				cfg.StdioAddr = fmt.Sprintf(":%d", agent.StdioPort)
			}
			return agent.Run(ctx, cfg)
		},
	}
	c.Flags().StringVar(&name, "name", "", "node name")
	c.Flags().StringVar(&data, "data", "/data", "the process's data directory")
	c.Flags().StringVar(&runID, "run", "", "the run this node belongs to: control requests for another run are refused (409)")
	c.Flags().BoolVar(&stdio, "stdio", false, "relay the process's stdin/stdout (campaigners)")
	c.Flags().BoolVar(&stallDisk, "stall-disk", false, "serve the data directory through the stalling filesystem (FUSE; its files in DIR.real), so that the stall fault can hold its syncs")
	return c
}

// clockTracerCmd does one step of clock skew for an agent, as a process
// of its own (see clock.Remote).
func clockTracerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "clock-tracer",
		Short:  "One step of per-process clock skew (run by the agent)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return clock.Serve(os.Stdin, os.Stdout)
		},
	}
}

// campaignerCmd runs a built-in recipe speaking the campaigner protocol
// on stdin/stdout.
func campaignerCmd() *cobra.Command {
	var cfg workloads.CampaignerConfig
	var endpoints, readEndpoints string
	c := &cobra.Command{
		Use:    "campaigner --name NAME --recipe RECIPE --endpoints URLS --ttl D --prefix P",
		Short:  "A built-in campaigner (runs inside a campaigner node)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := untilStopSignal(context.Background())
			defer stop()
			cfg.Endpoints = strings.Split(endpoints, ",")
			if readEndpoints != "" {
				cfg.ReadEndpoints = strings.Split(readEndpoints, ",")
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("campaigner", cfg.Name)
			r, err := registry.Recipes().Open(cfg)
			if err != nil {
				return err
			}
			defer r.Close()
			return workloads.RunCampaigner(ctx, cfg, r, os.Stdin, os.Stdout)
		},
	}
	c.Flags().StringVar(&cfg.Name, "name", "", "campaigner name")
	c.Flags().StringVar(&cfg.Recipe, "recipe", "", "built-in recipe")
	c.Flags().StringVar(&endpoints, "endpoints", "", "comma-separated client URLs")
	c.Flags().StringVar(&readEndpoints, workloads.ReadEndpointsFlag, "", "comma-separated client URLs register reads go through alone (--readers pinned); default: --endpoints")
	c.Flags().DurationVar(&cfg.TTL, "ttl", 3*time.Second, "session TTL")
	c.Flags().StringVar(&cfg.Prefix, "prefix", "", "the folder of the election's keys")
	c.Flags().StringToStringVar(&cfg.Options, workloads.OptionFlag, nil, "a setting of the recipe's database, NAME=VALUE (repeatable; the driver reads it)")
	c.Flags().DurationVar(&cfg.Work, "work", workloads.DefaultWork, "how long a leader works before each write")
	return c
}
