"""The operators' way in: the real Dagster UI in a real browser, and a run launched through it.

Starts `dagster dev` (webserver + daemon) on loopback over a tiny generated inbox, drives
Debian's Chromium with Playwright (the browser the project's set-up installs; Playwright
never downloads one here), and launches a run through the same GraphQL API the UI's
"Materialize" button uses. Screenshots are kept in test-artifacts/ for a human to look at.
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


def _shows(page: Page, url: str, texts: tuple[str, ...], screenshot: str, *, exact: bool = True) -> None:
    """Open url, wait until every text is on the page, keep a screenshot."""
    page.goto(url, wait_until="networkidle", timeout=90_000)
    for text in texts:
        page.get_by_text(text, exact=exact).first.wait_for(timeout=30_000)
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


def test_a_run_launched_through_the_ui_api_succeeds_and_publishes(dagster_dev: DagsterDev) -> None:
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
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": dagster_dev.first_day}]},
                "runConfigData": {},
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 300
    status = "QUEUED"
    while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
        time.sleep(2)
        status = dagster_dev.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id}
        )["runOrError"]["status"]
    assert status == "SUCCESS", f"run {run_id} ended {status}"
    # The run went through the gate and published: the datamart names this run.
    import duckdb

    with duckdb.connect(str(dagster_dev.settings.datamart_db), read_only=True) as con:
        assert con.execute("select run_id from meta.publication").fetchall() == [(run_id,)]
    checks = dagster_dev.graphql(
        """query { assetNodes(assetKeys: [{path: ["raw", "crm_orders"]}]) {
             assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } }"""
    )["assetNodes"][0]["assetChecksOrError"]["checks"]
    assert {(c["name"], (c["executionForLatestMaterialization"] or {}).get("status")) for c in checks} == {
        ("input_expectations", "SUCCEEDED")
    }


def test_ui_shows_the_lineage_from_ingest_to_publish_and_the_automations(dagster_dev: DagsterDev) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` (part of `make test`) installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{dagster_dev.url}/asset-groups", wait_until="networkidle", timeout=90_000)
            skip = page.get_by_role("button", name="Skip")  # the first-visit newsletter dialog
            if skip.count():
                skip.click()
            for group in ("inbox", "ingest", "staging", "intermediate", "marts", "publish"):
                page.get_by_text(group, exact=True).first.wait_for(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "ui-asset-groups.png"))

            # The publish asset's upstream lineage: raw tables, dbt models and the gate, one graph.
            lineage = "assets/publish/datamart?view=lineage&lineageScope=upstream&lineageDepth=10"
            nodes = ("crm_customers", "clickstream_events", "weblog_hits", "customer_360", "rfm_segments")
            _shows(page, f"{dagster_dev.url}/{lineage}", (*nodes, "datamart"), "ui-lineage.png")
            _shows(page, f"{dagster_dev.url}/automation", ("c360_daily", "c360_inbox"), "ui-automation.png")
            # The checks tab of a raw table lists its blocking input check, evaluated by the run above.
            checks = f"{dagster_dev.url}/assets/raw/crm_orders?view=checks"
            _shows(page, checks, ("input_expectations", "Succeeded"), "ui-checks.png", exact=False)
        finally:
            browser.close()
    assert (ARTIFACTS / "ui-lineage.png").stat().st_size > 10_000
