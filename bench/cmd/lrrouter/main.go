// Command lrrouter is `router run` with net/http/pprof, for profiling under
// the end-to-end harness (lrbench -cpuprofile builds and runs it). It serves
// /debug/pprof/ on $LRBENCH_PPROF_ADDR (default 127.0.0.1:6060) next to the
// router; everything else is what `router run -c FILE` does.
//
//	lrrouter run -c config.yaml
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // the point of this command
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "run" {
		fmt.Fprintln(os.Stderr, "usage: lrrouter run -c config.yaml")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	cfgPath := fs.String("c", "", "configuration file")
	_ = fs.Parse(os.Args[2:])
	if err := run(*cfgPath); err != nil {
		fmt.Fprintln(os.Stderr, "lrrouter:", err)
		os.Exit(1)
	}
}

func run(cfgPath string) error {
	if cfgPath == "" {
		return errors.New("-c is required")
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	addr := os.Getenv("LRBENCH_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof listener: %w", err)
	}
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := app.NewLogger(cfg.Log, os.Stderr)
	before, after := app.TuneGOMAXPROCS()
	log.Info("starting lrrouter (router run + pprof)", "config", cfgPath, "pprof", ln.Addr().String(),
		"cpus", before, "gomaxprocs", after)
	a, err := app.New(cfg, app.RulesFor(cfg, cfgPath), log)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
