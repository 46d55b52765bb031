// Command push is a batch job that reports to a Prometheus Pushgateway, as
// client_golang's push example does: it pushes how long it ran, how many
// records it handled, when it completed, and, only when it succeeded, the
// time of its last success.
//
//	$ prometheus-pushgateway &
//	$ go run ./examples/push -gateway http://127.0.0.1:9091
//	pushed to http://127.0.0.1:9091/metrics/job/db_backup: success
//	$ go run ./examples/push -gateway http://127.0.0.1:9091 -fail
//	pushed to http://127.0.0.1:9091/metrics/job/db_backup: failure (backup failed: disk full)
//	$ curl -s http://127.0.0.1:9091/metrics | grep db_backup
//
// It pushes with Add (POST), which replaces only the metrics it sends: a
// failed run updates the duration and completion time but leaves the last
// success time of an earlier run in place. The exit status is 1 when the job
// failed or the push did.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/push"
)

func main() {
	gateway := flag.String("gateway", "http://127.0.0.1:9091", "Pushgateway `URL`")
	job := flag.String("job", "db_backup", "job `name` to push as")
	fail := flag.Bool("fail", false, "simulate a failed backup")
	flag.Parse()

	if err := run(context.Background(), *gateway, *job, *fail, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run does the job, then pushes its metrics to the gateway.
func run(ctx context.Context, gateway, job string, fail bool, out io.Writer) error {
	reg := prom.NewRegistry()
	in := prom.WithRegistry(reg)
	duration := prom.Must(prom.NewGauge("db_backup_duration_seconds",
		"Duration of the last DB backup, in seconds.", in, prom.WithUnit("seconds")))
	records := prom.Must(prom.NewGauge("db_backup_records_processed",
		"Number of records processed by the last DB backup.", in))
	completion := prom.Must(prom.NewGauge("db_backup_last_completion_timestamp_seconds",
		"Last time the DB backup completed, successfully or not.", in, prom.WithUnit("seconds")))
	// Not registered yet: it joins the registry only when the backup
	// succeeds, so a failed run does not push it.
	success := prom.Must(prom.NewGauge("db_backup_last_success_timestamp_seconds",
		"Last time the DB backup completed successfully.", prom.WithRegistry(nil), prom.WithUnit("seconds")))

	p, err := push.New(gateway, job, push.WithRegistry(reg))
	if err != nil {
		return err
	}

	start := time.Now()
	n, backupErr := backup(fail)
	records.Set(float64(n))
	duration.Set(time.Since(start).Seconds())
	completion.SetToCurrentTime()
	if backupErr == nil {
		success.SetToCurrentTime()
		if err := reg.Register(success); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Add(ctx); err != nil {
		return errors.Join(backupErr, err)
	}
	if backupErr != nil {
		fmt.Fprintf(out, "pushed to %s: failure (%v)\n", p.URL(), backupErr)
		return backupErr
	}
	fmt.Fprintf(out, "pushed to %s: success\n", p.URL())
	return nil
}

// backup stands in for the job's work.
func backup(fail bool) (records int, err error) {
	time.Sleep(20 * time.Millisecond)
	if fail {
		return 17, errors.New("backup failed: disk full")
	}
	return 42, nil
}
