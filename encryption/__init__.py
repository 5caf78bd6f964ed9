"""Envelope encryption for the lab: one versioned format, pluggable key services.

Public API: :func:`encryption.envelope.encrypt`, :func:`encryption.envelope.decrypt`,
:func:`encryption.envelope.read_header`; key services in :mod:`encryption.providers`.
"""
