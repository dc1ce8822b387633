"""The operators' way in: the real Dagster UI in a real browser, and runs launched through it.

Starts `dagster dev` (webserver + daemon) on loopback over a tiny generated inbox, drives
Debian's Chromium with Playwright (the browser the project's set-up installs; Playwright
never downloads one here), and launches runs through the same GraphQL API the UI's
"Materialize" button uses: one that publishes, and one stopped by a blocking input check
(the gate, as the UI shows it). Screenshots are kept in test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page
from xs_deployment import xs_deployment

from pipelines.settings import PROJECT_DIR, Settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_DIR / "test-artifacts"
# Without the background-networking flags Chromium keeps dialling Google on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCATION = "pipelines.definitions"


@dataclass
class DagsterDev:
    url: str
    settings: Settings
    first_day: str

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.load(response)
        assert "errors" not in payload, payload
        return payload["data"]


COMMUNITY_DIALOG = "Join the Dagster community"


def _shows(page: Page, url: str, texts: tuple[str, ...], screenshot: str, *, exact: bool = True) -> None:
    """Open url, wait until every text is on the page and the view has settled, keep a screenshot."""
    page.goto(url, wait_until="networkidle", timeout=90_000)
    for text in texts:
        page.get_by_text(text, exact=exact).first.wait_for(timeout=30_000)
    # The asset graph lays itself out and zooms to fit after its labels exist: let it settle.
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1_500)
    # dagster.yaml turns the first-visit dialog off (nux.enabled: false); it must not cover the view.
    assert page.get_by_text(COMMUNITY_DIALOG).count() == 0, f"{COMMUNITY_DIALOG!r} dialog covers {url}"
    page.screenshot(path=str(ARTIFACTS / screenshot))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    root = tmp_path_factory.mktemp("ui")
    settings, env = xs_deployment(root)
    port = _free_port()
    dagster = Path(sys.executable).parent / "dagster"
    log = (root / "dagster-dev.log").open("w")
    proc = subprocess.Popen(
        [str(dagster), "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"dagster dev exited with {proc.returncode}:\n{(root / 'dagster-dev.log').read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail("dagster dev did not answer within 180 s")
                time.sleep(1)
        yield DagsterDev(url, settings, first_day="2025-09-01")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _launch(dagster_dev: DagsterDev, day: str) -> str:
    launched = dagster_dev.graphql(
        """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
             ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        {
            "p": {
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": "__repository__",
                    "jobName": "c360_all",
                },
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": day}]},
                "runConfigData": {},
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def _wait(dagster_dev: DagsterDev, run_id: str) -> str:
    deadline = time.monotonic() + 300
    status = "QUEUED"
    while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
        time.sleep(2)
        status = dagster_dev.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id}
        )["runOrError"]["status"]
    return status


def _published_run(settings: Settings) -> str:
    import duckdb

    with duckdb.connect(str(settings.datamart_db), read_only=True) as con:
        return con.execute("select run_id from meta.publication").fetchall()[0][0]


CHECKS_QUERY = """query($path: [String!]!) { assetNodes(assetKeys: [{path: $path}]) {
  assetChecksOrError { ... on AssetChecks { checks { name blocking
    executionForLatestMaterialization { runId status partition evaluation { success description
      metadataEntries { label ... on JsonMetadataEntry { jsonString } ... on IntMetadataEntry { intValue } } } } } } } } }"""


def _checks(dagster_dev: DagsterDev, path: list[str]) -> dict[str, dict]:
    nodes = dagster_dev.graphql(CHECKS_QUERY, {"path": path})["assetNodes"]
    return {c["name"]: c for c in nodes[0]["assetChecksOrError"]["checks"]}


def test_a_run_launched_through_the_ui_api_succeeds_and_publishes(dagster_dev: DagsterDev) -> None:
    run_id = _launch(dagster_dev, dagster_dev.first_day)
    status = _wait(dagster_dev, run_id)
    assert status == "SUCCESS", f"run {run_id} ended {status}"
    # The run went through the gate and published: the datamart names this run.
    assert _published_run(dagster_dev.settings) == run_id
    checks = _checks(dagster_dev, ["raw", "crm_orders"])
    assert {n: c["executionForLatestMaterialization"]["status"] for n, c in checks.items()} == {
        "input_expectations": "SUCCEEDED"
    }
    # After the swap, what is served was re-counted against the build, on both publish assets.
    for path in (["publish", "datamart"], ["publish", "exports"]):
        execution = _checks(dagster_dev, path)["row_counts_match_build"]["executionForLatestMaterialization"]
        assert (execution["runId"], execution["status"]) == (run_id, "SUCCEEDED")


def _browser(pw):  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` (part of `make test`) installs Debian's chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def test_ui_shows_the_lineage_from_inbox_to_exports_and_the_automations(dagster_dev: DagsterDev) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            groups = ("inbox", "ingest", "staging", "intermediate", "marts", "publish")
            _shows(page, f"{dagster_dev.url}/asset-groups", groups, "ui-asset-groups.png")

            # The exports' upstream lineage: inbox files, raw tables, dbt models, the datamart, one graph.
            # 43 assets: a tall page keeps the zoom-to-fit above the level where the UI drops labels.
            page.set_viewport_size({"width": 1600, "height": 2600})
            lineage = "assets/publish/exports?view=lineage&lineageScope=upstream&lineageDepth=12"
            nodes = ("crm", "crm_customers", "clickstream_events", "weblog_hits", "customer_360", "datamart")
            _shows(page, f"{dagster_dev.url}/{lineage}", (*nodes, "exports"), "ui-lineage.png")
            page.set_viewport_size({"width": 1600, "height": 1000})
            _shows(page, f"{dagster_dev.url}/automation", ("c360_daily", "c360_inbox"), "ui-automation.png")
            # The checks tab of a raw table lists its blocking input check, evaluated by the run above.
            checks = f"{dagster_dev.url}/assets/raw/crm_orders?view=checks"
            _shows(page, checks, ("input_expectations", "Succeeded"), "ui-checks.png", exact=False)
        finally:
            browser.close()
    assert (ARTIFACTS / "ui-lineage.png").stat().st_size > 10_000


def _blank_customer_ids(path: Path, every: int) -> tuple[int, int]:
    """Empty customer_id (first field, `;`-separated cp1252 CRM export) of every n-th data line.

    Returns (blanked, data lines). Ingest sends those rows to quarantine (a required column),
    so the file's quarantine share is blanked / data lines, far above the 5 % limit.
    """
    lines = path.read_bytes().decode("cp1252").split("\n")
    data = [i for i in range(1, len(lines)) if lines[i]]
    blanked = [i for i in data if i % every == 0]
    for i in blanked:
        lines[i] = ";" + lines[i].split(";", 1)[1]
    path.write_bytes("\n".join(lines).encode("cp1252"))
    return len(blanked), len(data)


def test_the_gate_is_visible_in_the_ui_as_a_failed_check_and_a_blocked_materialization(
    dagster_dev: DagsterDev,
) -> None:
    """A defect in day 2's customers fails raw/crm_customers:input_expectations (blocking): the UI
    shows the failed check with its metadata, and nothing downstream is materialized in that run."""
    from playwright.sync_api import sync_playwright

    settings = dagster_dev.settings
    published_before = _published_run(settings)
    customers = settings.inbox_dir / "crm" / "2025-09-02" / "customers.csv"
    blanked, rows = _blank_customer_ids(customers, every=5)
    assert blanked > 2 and blanked / rows > 0.05

    run_id = _launch(dagster_dev, "2025-09-02")
    assert _wait(dagster_dev, run_id) == "FAILURE"

    execution = _checks(dagster_dev, ["raw", "crm_customers"])["input_expectations"][
        "executionForLatestMaterialization"
    ]
    assert (execution["runId"], execution["status"]) == (run_id, "FAILED")
    assert execution["evaluation"]["success"] is False
    metadata = {m["label"]: m for m in execution["evaluation"]["metadataEntries"]}
    failed = json.loads(metadata["failed"]["jsonString"])
    assert failed == [
        {
            "check": "quarantine_share",
            "file": "crm/2025-09-02/customers.csv",
            "share": round(blanked / rows, 4),
            "limit": 0.05,
            "hint": "c360 quarantine crm_customers",
        }
    ]

    run = dagster_dev.graphql(
        """query($id: ID!) { runOrError(runId: $id) { ... on Run {
             assetMaterializations { assetKey { path } } stepStats { stepKey status } } } }""",
        {"id": run_id},
    )["runOrError"]
    materialized = {"/".join(m["assetKey"]["path"]) for m in run["assetMaterializations"]}
    assert "raw/crm_customers" in materialized  # loaded (bad rows in quarantine), then the check failed
    blocked = {
        "raw/crm_orders",
        "marts/customer_360",
        "marts/rfm_segments",
        "publish/datamart",
        "publish/exports",
    }
    assert not materialized & blocked, materialized & blocked
    steps = {s["stepKey"]: s["status"] for s in run["stepStats"]}
    assert steps["raw__crm_customers_input_expectations"] == "FAILURE"
    assert steps.get("publish") in (None, "SKIPPED"), steps  # never ran
    assert _published_run(settings) == published_before  # analysts still see the good version

    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            checks = f"{dagster_dev.url}/assets/raw/crm_customers?view=checks"
            _shows(page, checks, ("input_expectations", "Failed"), "ui-gate-checks.png", exact=False)
            # The latest evaluation's metadata: the failed gates as JSON, with the file and its share.
            page.get_by_text("[Show JSON]").first.click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_text("quarantine_share", exact=False).first.wait_for(timeout=30_000)
            assert "crm/2025-09-02/customers.csv" in dialog.inner_text()
            page.wait_for_timeout(1_000)  # the dialog fades in
            page.screenshot(path=str(ARTIFACTS / "ui-gate-check-metadata.png"))
            dialog.get_by_role("button", name="Close").click()
            _shows(page, f"{dagster_dev.url}/runs/{run_id}", ("Failure",), "ui-gate-run.png", exact=False)
        finally:
            browser.close()
