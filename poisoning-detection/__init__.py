"""Poisoning detection: detectors, fusion, report, remediation (package of poisoning-detection/)."""
