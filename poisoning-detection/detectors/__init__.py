"""Detectors with one interface: `run(ctx) -> DetectorResult` (per-sample score + per-class verdict)."""
