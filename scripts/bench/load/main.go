// Command load is the benchmark tool behind `make bench` (scripts/bench.sh):
// an HTTP load generator, the bulk loader for the list/search benchmark, the
// asynq no-op baseline, the routing burst and steady-load drivers, and the
// report that puts every figure beside its baseline.
//
// Every measuring subcommand prints a human-readable summary and appends its
// figures as JSON lines to the file named by -results (default
// $BENCH_RESULTS); `load report` reads them back, takes the median of the
// repeated runs and prints the tables.
package main

import (
	"fmt"
	"os"
	"sort"
)

type command struct {
	run  func(args []string) error
	help string
}

var commands = map[string]command{
	"http":          {runHTTP, "closed-loop HTTP load: N clients for a fixed duration (create or GET)"},
	"setup":         {runSetup, "add bench enterprise users (and officers) to the bench database"},
	"drift":         {runDrift, "check the pgbench create script still writes what the product writes"},
	"pgbench-vars":  {runPgbenchVars, "print -D arguments for the pgbench scripts"},
	"pgbench-list":  {runPgbenchList, "print the pgbench script of one list/search query"},
	"pgbench-log":   {runPgbenchLog, "percentiles of pgbench per-transaction logs"},
	"bulkload":      {runBulkload, "COPY N realistic requests into the bench database"},
	"asynq-noop":    {runAsynqNoop, "asynq baseline: enqueue N no-op tasks, then process them"},
	"asynq-latency": {runAsynqLatency, "asynq baseline: enqueue-to-run latency at a fixed rate"},
	"wait-routed":   {runWaitRouted, "wait until a burst is routed; assignments/s and checks"},
	"steady":        {runSteady, "open-loop HTTP filing at a fixed rate; commit-to-assigned latency"},
	"assigned":      {runAssigned, "commit-to-assigned latency of the requests above an id (filed by pgbench)"},
	"reset-load":    {runResetLoad, "close the burst's open requests so officers have capacity again"},
	"drop-filings":  {runDropFilings, "delete the requests filed after an id, with what refers to them"},
	"snapshot":      {runSnapshot, "record the rows of a burst (before/after filing it)"},
	"replay":        {runReplay, "put a routed burst back to the snapshot, to route it again"},
	"clocks":        {runClocks, "COPY the SLA clocks, breaches and ratings of the loaded requests"},
	"sla":           {runSLABench, "time the product's SLA sweep tick, recompute and report"},
	"inspload":      {runInspload, "COPY enterprises, inspectors and inspections (issues 7 and 8)"},
	"issue":         {runIssue, "inspectors asking for inspection codes over HTTP (pre-checks included)"},
	"issue-script":  {runIssueScript, "write the pgbench script of the SQL one code issue sends"},
	"verify":        {runVerify, "public code verify (or /healthz) req/s over HTTP"},
	"verify-script": {runVerifyScript, "write the pgbench scripts of the SQL one public verify sends"},
	"oversight":     {runOversightBench, "time the product's alert evaluation, inspection report and burden view"},
	"report-cde":    {runReportCDE, "print the tables of sections C, D and E"},
	"record":        {runRecord, "append one figure to the results file"},
	"report":        {runReport, "print the tables (medians beside baselines)"},
	"median":        {runMedian, "print the median of one figure"},
}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]].run == nil {
		fmt.Fprintln(os.Stderr, "usage: load <command> [flags]")
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(os.Stderr, "  %-14s %s\n", n, commands[n].help)
		}
		os.Exit(2)
	}
	if err := commands[os.Args[1]].run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "load %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
