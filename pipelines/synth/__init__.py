"""Seeded, realistic sample data for every source, with planted defects (`c360 generate`)."""

from pipelines.synth.generate import GenerateSummary, generate

__all__ = ["GenerateSummary", "generate"]
