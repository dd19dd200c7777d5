package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/sinks/s3"
)

func archiveCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "archive", Short: "Tools for the S3 archive"}
	var dest, table string
	ddl := &cobra.Command{
		Use:   "ddl",
		Short: "Print the Athena/Glue CREATE EXTERNAL TABLE (with partition projection) for an s3 destination",
		Long: `Print the Athena/Glue CREATE EXTERNAL TABLE statement that matches the
configured key layout of an s3 destination, with partition projection, so
the archive is queryable without crawlers or MSCK REPAIR:

  router archive ddl -c config.yaml --table security.logrouter_archive | \
    aws athena start-query-execution --query-string file:///dev/stdin ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Read for the s3 destination alone: run where the table is
			// made (a laptop, a CI job), the file's other secrets (HEC
			// tokens, Kafka passwords) need not be set.
			var p *config.Partial
			var err error
			if g.config == "" {
				p, err = config.ParsePartial("config.example.yaml (embedded)", logrouter.ExampleConfig)
			} else {
				p, err = config.LoadPartial(g.config)
			}
			if err != nil {
				return &exitError{2, err}
			}
			d, err := s3Destination(p.Config, dest)
			if err != nil {
				return &exitError{2, err}
			}
			if err := p.CheckDestination(d); err != nil {
				return &exitError{2, fmt.Errorf("destination %s: %w", d.Name, err)}
			}
			fmt.Fprint(cmd.OutOrStdout(), s3.DDL(*d.S3, table))
			return nil
		},
	}
	ddl.Flags().StringVar(&dest, "destination", "", "the s3 destination (needed when there are several)")
	ddl.Flags().StringVar(&table, "table", "logrouter_archive", "table name, optionally database.table")
	cmd.AddCommand(ddl)
	return cmd
}

// s3Destination finds the s3 destination named name, or the only one.
func s3Destination(cfg *config.Config, name string) (config.Destination, error) {
	var names []string
	for _, d := range cfg.Destinations {
		if d.Type != s3.TypeS3 {
			continue
		}
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	switch {
	case name != "":
		return config.Destination{}, fmt.Errorf("no s3 destination named %q (s3 destinations: %s)", name, strings.Join(names, ", "))
	case len(names) == 1:
		return s3Destination(cfg, names[0])
	case len(names) == 0:
		return config.Destination{}, fmt.Errorf("the configuration has no destination of type s3 (archive_dir is a local archive; Athena reads S3)")
	}
	return config.Destination{}, fmt.Errorf("several s3 destinations (%s): choose one with --destination", strings.Join(names, ", "))
}
