// Command router is logrouter's single binary: it runs the router and offers
// the tools SOC engineers and operators use around it (validate, rules test,
// explain).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		// The first signal starts a graceful shutdown (bounded by
		// shutdown_timeout); a second one ends the process at once, the
		// signal's default action, for an operator who cannot wait.
		<-ctx.Done()
		stop()
	}()
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "router:", err)
		os.Exit(exitCode(err))
	}
}
