"""The exceptions the loader raises for a delivery it cannot read as a whole."""

from __future__ import annotations


class IngestError(Exception):
    """A file cannot be read as a whole; the message names the file and the problem.

    Raised for a truncated gzip, bytes that are not the declared encoding, a header that
    lacks a required column, an empty file. Nothing of the table-partition is loaded.
    """


class AmbiguousDeliveryError(IngestError):
    """A day's file is in the inbox under two names (plain and gzip-compressed): which one counts?"""
