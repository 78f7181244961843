package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/reports"
)

func serveCmd() *cobra.Command {
	var store, addr string
	c := &cobra.Command{
		Use:   "serve [--store DIR] [--addr HOST:PORT]",
		Short: "Browse the runs of a store: a list with verdicts, each run's report and files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if st, err := os.Stat(store); err != nil || !st.IsDir() {
				return setupError("no store at %s: pass --store DIR, or run `harness run` first", store)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return setupError("listening on %s: %v (pass another --addr)", addr, err)
			}
			srv := &http.Server{Handler: reports.Handler(store), ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := untilStopSignal(context.Background())
			defer stop()
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				srv.Shutdown(sctx)
			}()
			fmt.Printf("serving %s at http://%s/ (Ctrl-C stops)\n", store, ln.Addr())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return setupError("serving: %v", err)
			}
			return nil
		},
	}
	c.Flags().StringVar(&store, "store", "store", "directory of run results")
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	return c
}
