"""The one exception the loader raises for a file it cannot read as a whole."""

from __future__ import annotations


class IngestError(Exception):
    """A file cannot be read as a whole; the message names the file and the problem.

    Raised for a truncated gzip, bytes that are not the declared encoding, a header that
    lacks a required column, an empty file. Nothing of the table-partition is loaded.
    """
