package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/starmates/logshipd/internal/config"
)

func newHealthCmd() *cobra.Command {
	var (
		cfgPath string
		addr    string
		ready   bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "health [-c FILE | --addr HOST:PORT] [--ready]",
		Short: "Probe a running daemon's /healthz (or /readyz); exit 0 when healthy",
		Long: `health is the container HEALTHCHECK: it needs no shell. It GETs /healthz (or
/readyz with --ready) on the metrics listener named by --addr or by the
config's metrics.listen, and exits 0 on HTTP 200, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if addr == "" {
				cfg := config.Default()
				if cfgPath != "" {
					var err error
					if cfg, err = config.Load(cfgPath); err != nil {
						return err
					}
				}
				addr = cfg.Metrics.Listen
			}
			if addr == "" {
				return fmt.Errorf("no metrics listener: set metrics.listen or --addr")
			}
			path := "/healthz"
			if ready {
				path = "/readyz"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("unhealthy: %w", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("unhealthy: %s answered %s", path, resp.Status)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&cfgPath, "config", "c", "", "config file whose metrics.listen is probed")
	f.StringVar(&addr, "addr", "", "metrics listener address (overrides the config)")
	f.BoolVar(&ready, "ready", false, "probe /readyz (sinks reachable, buffers not full) instead of /healthz")
	f.DurationVar(&timeout, "timeout", 3*time.Second, "probe timeout")
	return cmd
}
