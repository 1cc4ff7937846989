// Command bt is a BitTorrent client: it makes and inspects .torrent files,
// downloads and seeds torrents, and runs a tracker.
//
// Each subcommand lives in a file of its own and registers itself with
// rootCmd from an init function.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var rootCmd = &cobra.Command{
	Use:           "bt",
	Short:         "bt is a BitTorrent client, library and tracker",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func init() {
	rootCmd.Version = versionLine()
	rootCmd.SetVersionTemplate("{{.Version}}\n")
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print bt's version and how it was built",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			fmt.Fprint(cmd.OutOrStdout(), buildInfo())
		},
	})
}

// run executes the command line and returns the process exit status. The
// first SIGINT or SIGTERM cancels the command's context so it can end
// cleanly; a second one exits at once.
func run(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	finished := make(chan struct{}) // run has returned (ctx ends at the first signal)
	defer close(finished)
	go func() {
		select {
		case <-sig:
		case <-finished:
			return
		}
		cancel()
		select {
		case <-sig:
			fmt.Fprintln(os.Stderr, "bt: interrupted twice, exiting now")
			os.Exit(130)
		case <-finished:
		}
	}()

	// A reader of our output that goes away (bt cat … | head) makes
	// writes fail with EPIPE instead of killing the process, so that it
	// can clean up (bt cat's temporary directory) and exit quietly.
	signal.Ignore(syscall.SIGPIPE)
	usageArgs(rootCmd)
	resetCommands(rootCmd)
	rootCmd.SetArgs(args)
	err := rootCmd.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errStopped), errors.Is(err, errInterrupted):
		fmt.Fprintf(os.Stderr, "bt: %v\n", err)
		return 130
	case errors.Is(err, errBrokenPipe):
		// The reader of our output went away: nothing to say, and the
		// status cat has when SIGPIPE ends it (128+13).
		return 141
	}
	fmt.Fprintf(os.Stderr, "bt: %s\n", plainError(err))
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(os.Stderr, "usage: %s\n", ue.usage)
	}
	return 1
}

// usageError is a wrong command line: the error, and the command's usage
// line to print after it.
type usageError struct {
	err   error
	usage string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// errBrokenPipe ends a command whose output's reader went away.
var errBrokenPipe = errors.New("broken pipe")

// errInterrupted ends a command that Ctrl-C stopped before its work was done.
var errInterrupted = errors.New("interrupted")

// usageArgs wraps each command's argument check so that a missing or extra
// argument shows the command's usage line, and flag errors do too.
func usageArgs(cmd *cobra.Command) {
	if cmd.Annotations["usage"] == "" {
		if cmd.Annotations == nil {
			cmd.Annotations = make(map[string]string)
		}
		cmd.Annotations["usage"] = "wrapped"
		wrapArgs(cmd)
	}
	for _, c := range cmd.Commands() {
		usageArgs(c)
	}
}

func wrapArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return &usageError{err, c.UseLine()}
			}
			return nil
		}
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{err, c.UseLine()}
	})
}

// resetCommands puts every flag of cmd and its subcommands back to its
// default and forgets the context of an earlier run (cobra keeps a
// subcommand's first context), so that run can be called more than once in
// one process, as the tests do.
func resetCommands(cmd *cobra.Command) {
	cmd.SetContext(nil) //lint:ignore SA1012 cobra gives a command with no context the next execution's
	reset := func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			sv.Replace(nil)
		} else {
			f.Value.Set(f.DefValue)
		}
		f.Changed = false
	}
	cmd.Flags().VisitAll(reset)
	cmd.PersistentFlags().VisitAll(reset)
	for _, c := range cmd.Commands() {
		resetCommands(c)
	}
}
