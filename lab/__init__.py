"""Shared runtime of the lab: typed configuration, the local cloud (emulator
lifecycle) and small command-line helpers used by every step's script."""
