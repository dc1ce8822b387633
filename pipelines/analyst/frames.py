"""Query results as pandas DataFrames for the notebooks, ready to plot.

Arrow, not `.df()`: DuckDB's own pandas conversion warns on timestamptz columns with the
installed pandas. Decimals become floats (matplotlib cannot plot `Decimal` objects) and
dates become datetime64, which is what the plots need; exact money stays in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from pipelines.analyst.sql import connect_datamart
from pipelines.settings import Settings


def _plottable(table: pa.Table) -> pa.Table:
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table


def query_df(settings: Settings, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run one SELECT on the published datamart (read-only, closed afterwards) into pandas."""
    with connect_datamart(settings) as con:
        table = con.sql(sql, params=list(params) if params else None).to_arrow_table()
    return _plottable(table).to_pandas(date_as_object=False)
