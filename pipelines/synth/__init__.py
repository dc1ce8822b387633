"""Seeded, realistic sample data for every source, with planted defects (`c360 generate`).

Entry point: `generate(settings, tier, seed, out_dir=None, progress=None)`; see
generator.py for the flow and _manifest.json (manifest.py) for the ground truth it writes.
"""

from pipelines.synth.generator import GenerateSummary, generate

__all__ = ["GenerateSummary", "generate"]
