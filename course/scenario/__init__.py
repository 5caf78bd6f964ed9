"""The end-to-end scenario (``make demo``): three silos, one compromised producer,
encrypted landing, detection, quarantine, federated training twice, one report."""
