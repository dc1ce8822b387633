"""Contract-driven, lossless ingestion of the inbox into DuckDB (raw, quarantine, audit)."""

from pipelines.ingest.contracts import (
    Column,
    ContractError,
    Rule,
    SourceContract,
    TableContract,
    load_contracts,
)
from pipelines.ingest.errors import AmbiguousDeliveryError, IngestError
from pipelines.ingest.load import FileLoad, LoadResult, ensure_schemas, ingest_range, ingest_table

__all__ = [
    "AmbiguousDeliveryError",
    "Column",
    "ContractError",
    "FileLoad",
    "IngestError",
    "LoadResult",
    "Rule",
    "SourceContract",
    "TableContract",
    "ensure_schemas",
    "ingest_range",
    "ingest_table",
    "load_contracts",
]
