package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Set by the build: -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "none"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	root := newRoot(logger)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "logshipd:", err)
		os.Exit(1)
	}
}

func newRoot(logger *slog.Logger) *cobra.Command {
	root := &cobra.Command{
		Use:   "logshipd",
		Short: "Log shipping and normalization daemon",
		Long: `logshipd reads logs in any format (JSON, logfmt, access logs, Python/Go/Java text,
syslog, container wrappers), turns every logical record into one canonical
CloudWatch-ready JSON record, and ships it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newNormalizeCmd(logger), newTailCmd(logger), newRunCmd(logger), newValidateCmd(), newReplayCmd(logger), newHealthCmd(), newVersionCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "logshipd %s (commit %s)\n", version, commit)
			return err
		},
	}
}
