"""`c360` command line: generate sample data and run the pipeline without the UI."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TextIO

from pipelines.settings import TIERS, Settings


def _progress(message: str) -> None:
    print(f"  {message}", flush=True)


def _progress_to(stream: TextIO) -> Callable[[str], None]:
    """Progress bound to the terminal's stream: a run redirects sys.stdout to filter dbt's output."""

    def progress(message: str) -> None:
        print(f"  {message}", file=stream, flush=True)

    return progress


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


# ---- generate -------------------------------------------------------------------------
def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    out_dir = Path(args.out).resolve() if args.out else settings.inbox_dir
    manifest = out_dir / "_manifest.json"
    if args.if_absent and manifest.exists():
        import json

        have = json.loads(manifest.read_text())
        if (have.get("tier"), have.get("seed")) != (args.tier, args.seed):
            print(
                f"c360 generate: {out_dir} holds tier {have.get('tier')} seed {have.get('seed')}, not tier "
                f"{args.tier} seed {args.seed}; run `make clean-data` (inbox and warehouse) and try again",
                file=sys.stderr,
            )
            return 2
        print(f"sample data (tier {args.tier}, seed {args.seed}) already in {out_dir}: not regenerated")
        return 0
    from pipelines.synth import generate

    spec = TIERS[args.tier]
    print(
        f"generating tier {args.tier} (seed {args.seed}): {spec.customers:,} customers, "
        f"{spec.orders:,} orders, {spec.clickstream_events:,} events, {spec.log_lines:,} log lines, "
        f"{spec.days} days from {settings.start_date} into {out_dir}",
        flush=True,
    )
    started = time.perf_counter()
    summary = generate(settings, args.tier, args.seed, out_dir=out_dir, progress=_progress)
    print(f"generated in {time.perf_counter() - started:.1f} s: {summary}")
    return 0


# ---- run ------------------------------------------------------------------------------
def _days_to_run(args: argparse.Namespace, settings: Settings) -> list[date]:
    from pipelines.partitions import day_range, inbox_days

    if args.date:
        return [args.date]
    if args.date_from or args.date_to:
        found = inbox_days(settings.inbox_dir)
        start = args.date_from or (found[0] if found else None)
        end = args.date_to or settings.end_date or (found[-1] if found else None)
        if start is None or end is None:
            raise SystemExit(
                "c360 run: no files in the inbox to infer the date range from; pass --from and --to"
            )
        return day_range(start, end)
    found = inbox_days(settings.inbox_dir)
    if settings.end_date:
        found = [d for d in found if d <= settings.end_date]
    return found


def _summarize_loads(settings: Settings, days: list[date]) -> None:
    import duckdb

    if not settings.build_db.exists():
        return
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT raw_table, count(DISTINCT source_file) AS files, sum(rows_read), sum(rows_loaded),
                   sum(rows_quarantined), sum(rows_repaired)
            FROM audit.load_log WHERE partition BETWEEN ? AND ?
            GROUP BY raw_table ORDER BY raw_table
            """,
            [days[0], days[-1]],
        ).fetchall()
    except duckdb.Error:
        return
    finally:
        con.close()
    header = f"{'raw table':<22}{'files':>7}{'read':>13}{'loaded':>13}{'quarantined':>13}{'repaired':>10}"
    print("\nloaded into " + str(settings.build_db))
    print(header)
    print("-" * len(header))
    for table, files, read, loaded, quarantined, repaired in rows:
        print(f"{table:<22}{files:>7}{read:>13,}{loaded:>13,}{quarantined:>13,}{repaired:>10,}")
    _summarize_stitching(settings)


def _summarize_stitching(settings: Settings) -> None:
    """The identity graph's reach, the figure marketing asks first (also a WARN check)."""
    import duckdb

    from pipelines.quality.reconciliation import min_stitched_session_share, stitching_coverage

    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        coverage = stitching_coverage(con, min_stitched_session_share()).metadata
    except duckdb.Error:
        return  # no sessions mart (e.g. a transactions-only profile)
    finally:
        con.close()
    if coverage["sessions"]:
        print(
            f"\nidentity: {coverage['stitched_sessions']:,} of {coverage['sessions']:,} clickstream sessions "
            f"({coverage['stitched_share']:.1%}) stitched to a customer"
        )


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.runner import run_pipeline

    days = _days_to_run(args, settings)
    if not days:
        print(
            f"c360 run: nothing to do: no delivered files in {settings.inbox_dir} "
            "(run `c360 generate` or drop files there)",
            file=sys.stderr,
        )
        return 1
    too_early = [d for d in days if d < settings.start_date]
    if too_early:
        print(
            f"c360 run: {too_early[0]} is before the first partition {settings.start_date}; "
            "set C360_START_DATE earlier",
            file=sys.stderr,
        )
        return 2
    print(f"running {len(days)} day(s) {days[0]} .. {days[-1]} on {settings.build_db}", flush=True)
    started = time.perf_counter()
    outcome = run_pipeline(settings, days[0], days[-1], progress=_progress_to(sys.stdout))
    elapsed = time.perf_counter() - started
    if not outcome.success:
        print(f"c360 run: FAILED after {elapsed:.1f} s: {outcome.reason}", file=sys.stderr)
        print(f"  details: `c360 status`, or {settings.run_url(outcome.run_id)} (`make ui`)", file=sys.stderr)
        return 1
    _summarize_loads(settings, days)
    print(f"\nrun {outcome.run_id} succeeded in {elapsed:.1f} s")
    _summarize_publication(settings)
    return 0


def _summarize_publication(settings: Settings) -> None:
    """The last lines of a run: which version analysts and BI tools now see, and where."""
    from pipelines.status import read_status

    status = read_status(settings)
    published = status["published"]
    if not published or "error" in published:
        print("published: nothing (this run did not publish)")
        return
    print(
        f"published: run {published['run_id']} at {published['published_at']}, "
        f"{published['tables']} tables, {published['total_rows']:,} rows"
    )
    print(f"  datamart: {settings.datamart_db}  (read-only: c360 sql, duckdb -readonly)")
    exports = status["exports"] or {}
    print(f"  exports:  {settings.exports_dir}/<table>/  (Parquet, -> {exports.get('version_dir')})")


# ---- quarantine -----------------------------------------------------------------------
def cmd_quarantine(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    if not settings.build_db.exists():
        print(
            f"c360 quarantine: no warehouse at {settings.build_db} yet (run `c360 run` first)",
            file=sys.stderr,
        )
        return 1
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'quarantine' ORDER BY 1"
            ).fetchall()
        ]
        if args.table:
            if args.table not in tables:
                print(
                    f"c360 quarantine: no quarantine table {args.table!r} (have: {', '.join(tables)})",
                    file=sys.stderr,
                )
                return 2
            rows = con.execute(
                f"SELECT _source_file, _line_number, reason, column_name, action, detail, left(raw_record, 120) "
                f'FROM quarantine."{args.table}" ORDER BY _partition, _source_file, _line_number LIMIT ?',
                [args.limit],
            ).fetchall()
            for row in rows:
                print(" | ".join("" if v is None else str(v) for v in row))
            return 0
        print(f"{'table':<22}{'reason':<22}{'action':<10}{'rows':>10}")
        for table in tables:
            for reason, action, n in con.execute(
                f'SELECT reason, action, count(*) FROM quarantine."{table}" GROUP BY ALL ORDER BY 3 DESC'
            ).fetchall():
                print(f"{table:<22}{reason:<22}{action:<10}{n:>10,}")
    finally:
        con.close()
    return 0


# ---- status ---------------------------------------------------------------------------
def cmd_status(_args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.status import format_status, read_status

    print(format_status(read_status(settings)))
    return 0


# ---- bench ----------------------------------------------------------------------------
def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.bench import run_bench
    from pipelines.bench.build import BenchRunError

    started = time.perf_counter()
    try:
        results = run_bench(
            args.tier,
            base=settings,
            progress=_progress,
            repeat=args.repeat,
            build_repeat=args.build_repeat,
            regenerate=args.regenerate,
            write_markdown=not args.no_markdown,
            note=args.note,
            incremental=args.incremental,
            reuse_full_build=args.reuse_full_build,
            check_free_disk=not args.skip_disk_check,
        )
    except BenchRunError as exc:
        print(f"c360 bench: {exc}", file=sys.stderr)
        return 1
    from pipelines.bench import render_markdown

    print()
    print(render_markdown(results))
    print(f"bench finished in {time.perf_counter() - started:.1f} s")
    return 0


# ---- sql / docs (analysts) ------------------------------------------------------------
def cmd_sql(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.analyst.sql import main as sql_main

    return sql_main(args, settings)


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.analyst.guide import main as guide_main

    return guide_main(settings, check=args.check)


# ---- entry point ----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360", description="Customer 360 warehouse")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write seeded synthetic sample data into the inbox")
    gen.add_argument("--tier", choices=list(TIERS), default=None, help="size (default: C360_TIER or M)")
    gen.add_argument("--seed", type=int, default=None, help="random seed (default: C360_SEED or 42)")
    gen.add_argument("--out", help="output folder (default: the inbox under C360_DATA_DIR)")
    gen.add_argument("--if-absent", action="store_true", help="do nothing if sample data is already there")
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser(
        "run", help="ingest, build and check the given days (default: every day in the inbox)"
    )
    run.add_argument("--date", type=_parse_date, help="one day")
    run.add_argument("--from", dest="date_from", type=_parse_date, help="first day (inclusive)")
    run.add_argument("--to", dest="date_to", type=_parse_date, help="last day (inclusive)")
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", help="the published version, the last run and what failed")
    status.set_defaults(func=cmd_status)

    bench = sub.add_parser(
        "bench",
        help="measure ingest vs scan floor and GoAccess, full and incremental builds, analyst queries",
    )
    bench.add_argument("--tier", choices=list(TIERS), default="S")
    bench.add_argument("--repeat", type=int, default=3, help="runs per short figure; the median is reported")
    bench.add_argument(
        "--build-repeat",
        type=int,
        default=None,
        help="whole-pipeline runs per figure (default: 3 at XS/S, 1 at M/L)",
    )
    bench.add_argument("--note", help="a remark stored with the results, e.g. what else was running")
    bench.add_argument(
        "--regenerate", action="store_true", help="regenerate the tier's data to time generation"
    )
    bench.add_argument("--no-markdown", action="store_true", help="do not update BENCHMARKS.md")
    bench.add_argument(
        "--incremental",
        choices=["new-day", "restate"],
        default="new-day",
        help="new-day: the last day on a history built without it (default); restate: the last day run "
        "again on the full build (same work, one history build less, for tier L)",
    )
    bench.add_argument(
        "--reuse-full-build",
        action="store_true",
        help="take the full build (figures and warehouse) from the tier's last bench run and measure "
        "the rest: for resuming a tier L bench whose later phase failed",
    )
    bench.add_argument(
        "--skip-disk-check",
        action="store_true",
        help="start even when the free disk looks too small for the tier (the estimate is from tier L)",
    )
    bench.set_defaults(func=cmd_bench)

    quar = sub.add_parser("quarantine", help="rejected rows by table and reason, or one table's rows")
    quar.add_argument("table", nargs="?", help="a raw table name, e.g. crm_orders: list its quarantined rows")
    quar.add_argument("--limit", type=int, default=50, help="rows to show for one table (default 50)")
    quar.set_defaults(func=cmd_quarantine)

    from pipelines.analyst.options import add_arguments as add_sql_arguments

    sql = sub.add_parser("sql", help="query the published datamart (read-only); no query opens a prompt")
    add_sql_arguments(sql)
    sql.set_defaults(func=cmd_sql)

    docs = sub.add_parser("docs", help="regenerate docs/analyst-guide.md from the dbt YAML and the queries")
    docs.add_argument("--check", action="store_true", help="fail if the committed guide is out of date")
    docs.set_defaults(func=cmd_docs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Beta/deprecation notices from libraries are for developers, not for command-line users.
    warnings.filterwarnings("ignore", message=".*currently in beta.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"c360: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "tier", None) is None and args.command == "generate":
        args.tier = settings.tier
    if getattr(args, "seed", None) is None and args.command == "generate":
        args.seed = settings.seed
    if args.command == "generate":
        settings = replace(settings, tier=args.tier, seed=args.seed)
    return int(args.func(args, settings))


if __name__ == "__main__":
    sys.exit(main())
