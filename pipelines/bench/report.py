"""BENCHMARKS.md: one block per tier between markers, rewritten by each bench run.

Only the text between `<!-- bench:<tier>:begin -->` and `<!-- bench:<tier>:end -->` is
the harness's; everything else (targets, analysis of missed ones) is written by hand
and kept byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipelines.bench.memory import gib


def markers(tier: str) -> tuple[str, str]:
    return f"<!-- bench:{tier}:begin -->", f"<!-- bench:{tier}:end -->"


def _n(value: Any, digits: int = 2) -> str:
    """A figure for a table cell: thousands separators, '–' when missing."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _header(r: Mapping[str, Any]) -> list[str]:
    m, s, rep = r["machine"], r["settings"], r["repeats"]
    lines = [
        f"### Tier {r['tier']}",
        "",
        f"Measured {r['measured_at']} on {m['cores']} × {m['cpu_model']}, "
        f"{gib(m['memory_bytes'])} GiB RAM, {m['os']}; Python {m['python']}, DuckDB {m['duckdb']}, "
        f"Dagster {m['dagster']}, dbt-core {m['dbt_core']}, GoAccess {m['goaccess'] or 'not installed'}.",
        "",
        f"Command: `{r['command']}`. DuckDB `memory_limit` {s['duckdb_memory_limit']}, "
        f"threads {s['duckdb_threads']}, dbt threads {s['dbt_threads']}. Short figures are the median of "
        f"{rep['short']} run(s), pipeline runs the median of {rep['build']}.",
    ]
    if r["contended"]:
        lines += [
            "",
            f"**Contended:** other processes used {m['foreign_cpu_seconds']} CPU seconds while the bench ran "
            f"({m['foreign_cpu_share']:.0%} of {m['cores']} cores), so these timings are pessimistic.",
        ]
    if r.get("note"):
        lines += ["", f"Note: {r['note']}"]
    return lines


def _pipeline(r: Mapping[str, Any]) -> list[str]:
    full, inc = r["full_build"], r["incremental"]
    ph = full["phase_seconds"]
    lines = [
        "",
        "| figure | value |",
        "|---|---|",
        f"| generate | {_n(r['generate_seconds'])} s |"
        if r["generate_seconds"] is not None
        else "| generate | not re-timed (data present; `--regenerate` times it) |",
        f"| full build `{full['command']}`, {full['days']} days{_reused(r)} | {_n(full['wall_seconds'])} s wall: "
        f"ingest {_n(ph['ingest'])} s, checks {_n(ph['checks'])} s, dbt {_n(ph['dbt'])} s "
        f"(its nodes {_n(full['dbt_execution_seconds'])} s), publish {_n(ph['publish'])} s, "
        f"outside steps {_n(full['outside_steps_seconds'])} s |",
        f"| full build peak RSS (process tree) | {gib(full['peak_rss_bytes'])} GiB = "
        f"{_n(full['peak_rss_over_memory_limit'])} × memory_limit{_peak_where(full)}; "
        f"spill peak {_spill(full)} |",
    ]
    if inc["available"]:
        lines += [
            f"| incremental `{inc['command']}` "
            + (
                "again on the full build"
                if inc.get("mode") == "restate"
                else f"on {inc['base_days']} built days"
            )
            + f" | {_n(inc['wall_seconds'])} s = "
            f"{_n(inc['ratio_to_full_build'])} × full build (dbt {_n(inc['phase_seconds']['dbt'])} s, "
            f"outside steps {_n(inc['outside_steps_seconds'])} s); peak RSS {gib(inc['peak_rss_bytes'])} GiB"
            f"{_peak_where(inc)} |",
        ]
    else:
        lines.append(f"| incremental | not measured: {inc['reason']} |")
    return lines


# Programs holding less than this at the peak (a `tail`, a shell) are left out of its split.
MIN_PROCESS_SHOWN_BYTES = 50 * 1024**2


def _spill(run: Mapping[str, Any]) -> str:
    return "not kept" if run["peak_spill_bytes"] is None else f"{gib(run['peak_spill_bytes'])} GiB"


def _reused(r: Mapping[str, Any]) -> str:
    """`, measured at <time> (reused)` when --reuse-full-build took the build of an earlier bench run."""
    at = r["full_build"].get("measured_at")
    return f" (measured at {at}, reused)" if at and "--reuse-full-build" in r["command"] else ""


def _peak_where(run: Mapping[str, Any]) -> str:
    """`, at 812 s in dbt_datamart (dbt 2.81, c360 0.62 GiB)`: where a pipeline run peaked."""
    at = run.get("peak_rss_at_seconds")
    if at is None:
        return ""
    step = run.get("peak_rss_step") or "no step (start-up or set-up)"
    held = run.get("peak_rss_bytes_by_process", {}).items()
    parts = ", ".join(f"{name} {gib(b)}" for name, b in held if b >= MIN_PROCESS_SHOWN_BYTES)
    return f", at {_n(at, 1)} s in {step} ({parts} GiB)" if parts else f", at {_n(at, 1)} s in {step}"


def _ingest(r: Mapping[str, Any]) -> list[str]:
    lines = [
        "",
        "| raw table | source | rows read | ingest s | scan floor s | ratio | rows/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in r["ingest"]["tables"]:
        lines.append(
            f"| {f['name']} | {f['source']} | {_n(f['rows_read'])} | {_n(f['seconds'])} | "
            f"{_n(f['scan_seconds'], 3)} ({f['scan_method']}) | {_n(f['ratio_to_scan'], 1)} | {_n(f['rows_per_second'])} |"
        )
    for f in r["ingest"]["sources"]:
        lines.append(
            f"| **{f['name']}** | all | {_n(f['rows_read'])} | {_n(f['seconds'])} | {_n(f['scan_seconds'], 3)} | "
            f"{_n(f['ratio_to_scan'], 1)} | {_n(f['rows_per_second'])} |"
        )
    return lines


def _weblogs(r: Mapping[str, Any]) -> list[str]:
    g = r["weblogs_vs_goaccess"]
    if not g["available"]:
        return ["", f"Web logs vs GoAccess: not measured: {g['reason']}."]
    return [
        "",
        f"Web logs vs GoAccess ({g['version']}, `{g['command']}`):",
        "",
        "| lines | our ingest s | lines/s | GoAccess s | lines/s | ours ÷ GoAccess |",
        "|---|---|---|---|---|---|",
        f"| {_n(g['lines'])} | {_n(g['ingest_seconds'])} | {_n(g['ingest_lines_per_second'])} | "
        f"{_n(g['goaccess_seconds'], 3)} | {_n(g['goaccess_lines_per_second'])} | {_n(g['ratio_ingest_to_goaccess'], 1)} |",
    ]


def _queries(r: Mapping[str, Any]) -> list[str]:
    q = r["analyst_queries"]
    if not q["available"]:
        return ["", f"Analyst queries: not measured: {q['reason']}."]
    lines = [
        "",
        f"Analyst queries on the published datamart: {len(q['queries'])} queries, "
        f"sum of medians {_n(q['total_median_seconds'] * 1000, 1)} ms, slowest {_n(q['slowest_median_seconds'] * 1000, 1)} ms.",
        "",
        "| query | rows | median ms |",
        "|---|---|---|",
    ]
    for f in q["queries"]:
        ms = _n(f["median_seconds"] * 1000, 1) if f["median_seconds"] is not None else f"error: {f['error']}"
        lines.append(f"| {f['name']} | {_n(f['rows'])} | {ms} |")
    return lines


def render_markdown(results: Mapping[str, Any]) -> str:
    """The tier's block (without markers)."""
    parts = _header(results) + _pipeline(results) + _ingest(results) + _weblogs(results) + _queries(results)
    return "\n".join(parts) + "\n"


def replace_block(text: str, tier: str, body: str) -> str:
    """Text with the tier's marker block replaced (or appended under '## Results' / at the end)."""
    begin, end = markers(tier)
    block = f"{begin}\n{body}{end}"
    if begin in text and end in text.split(begin, 1)[1]:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    anchor = "## Results\n"
    if anchor in text:
        head, tail = text.split(anchor, 1)
        return f"{head}{anchor}\n{block}\n{tail}"
    return text.rstrip("\n") + "\n\n" + block + "\n"


def update_benchmarks_md(results: Mapping[str, Any], path: Path) -> None:
    """Rewrite the tier's block in path, keeping every other byte."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    path.write_text(replace_block(text, results["tier"], render_markdown(results)))
