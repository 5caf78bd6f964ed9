"""Cloud-agnostic ingestion core: validate, deduplicate, batch, land, verify.

Every silo reuses these: ``validate`` (Accepted / DeadLetter), ``landing`` (layout,
envelope-encrypted batches), ``pipeline`` (BatchLander: validate -> land -> checkpoint),
``checkpoint``, ``verify`` (re-read and prove), ``summary`` (the --json contract),
``cli`` (shared script flags) and ``store`` (the ObjectStore protocol).
"""
