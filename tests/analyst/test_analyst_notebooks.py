"""The notebooks: stored without outputs, and executed end to end on the tier S datamart."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipelines.settings import PROJECT_DIR, TIERS

NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
# Figures each notebook draws: a run that silently skips a plot fails.
FIGURES = {"01_rfm_exploration": 4, "02_customer_360_view": 1, "03_web_funnel_campaigns": 4}


def test_notebooks_are_stored_without_outputs() -> None:
    paths = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    assert [p.stem for p in paths] == sorted(FIGURES)
    for path in paths:
        book = nbformat.read(path, as_version=4)
        nbformat.validate(book)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear outputs"


def _save_figures_cell(out_dir: Path) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        f"for n in plt.get_fignums(): plt.figure(n).savefig(r'{out_dir}' + f'/fig{{n}}.png')\n"
        "print('figures', matplotlib.get_backend(), len(plt.get_fignums()))\n"
    )


def _run(name: str, tmp_path: Path) -> tuple[list[str], list[Path]]:
    book = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    book.cells.insert(0, nbformat.v4.new_code_cell("import matplotlib"))
    book.cells.append(_save_figures_cell(tmp_path))
    NotebookClient(
        book, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS_DIR)}}
    ).execute()
    printed = [
        out.text
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stdout"
    ]
    return printed, sorted(tmp_path.glob("fig*.png"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_notebook_runs_end_to_end_on_tier_s(
    name: str, published_env, mart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    printed, figures = _run(name, tmp_path)
    assert printed[-1].strip().lower() == f"figures agg {FIGURES[name]}"
    assert len(figures) == FIGURES[name] and all(f.stat().st_size > 5_000 for f in figures)
    text = "".join(printed)
    if name == "01_rfm_exploration":
        paying = mart.scalar("SELECT count(*) FROM marts.customer_360 WHERE net_revenue > 0")
        assert f"{paying:,} paying customers" in text
        moved = mart.rows(
            "SELECT movement, count(*) FROM marts.rfm_migration "
            "WHERE as_of_date = (SELECT max(as_of_date) FROM marts.rfm_migration) GROUP BY 1"
        )
        for movement, customers in moved:
            assert re.search(rf"^{movement} +{customers}$", text, re.M), (movement, customers)
    if name == "02_customer_360_view":
        customer = text.splitlines()[0]
        assert re.fullmatch(r"C\d+", customer)
        orders, contacts = mart.rows(
            "SELECT (SELECT count(*) FROM marts.fct_orders WHERE customer_id = $1), "
            "(SELECT count(*) FROM marts.fct_interactions WHERE customer_id = $1)",
            [customer],
        )[0]
        assert f"{orders} orders" in text and f"{contacts} support contacts" in text and contacts > 0
    assert mart.scalar("SELECT count(*) FROM marts.customer_360") == TIERS["S"].customers
