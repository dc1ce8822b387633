"""Benchmark harness: `c360 bench --tier XS|S|M|L` (`make bench TIER=...`).

Works on data of its own under `<data>/bench/<tier>/` (never the user's inbox), one
module per measurement:

  build     full build (`c360 run`, fresh data dir) and incremental (last day on top of the
            rest): wall seconds, peak RSS of the whole process tree, spill, seconds per step
  ingest    each raw table's ingest step beside `scan`, DuckDB merely counting its files' rows
  goaccess  our web-log ingest beside GoAccess parsing the same files
  queries   median latency of every analyst query on the published datamart

Results: `<data>/bench/results-<tier>.json` and the tier's block in BENCHMARKS.md. The JSON
(`schema_version` 1) holds `tier`, `sizes`, `measured_at`, `command`, `note`, `machine`
(cores, CPU, RAM, versions, load averages), `settings` (DuckDB memory_limit as given and in
bytes, threads), `repeats`, `contended`, `generate_seconds`, `full_build`, `ingest`
(`seconds`, `sources`, `tables`), `weblogs_vs_goaccess`, `incremental`, `analyst_queries`;
BENCHMARKS.md documents every field.
"""

from pipelines.bench.harness import figures, run_bench
from pipelines.bench.report import render_markdown, update_benchmarks_md

__all__ = ["figures", "render_markdown", "run_bench", "update_benchmarks_md"]
