"""One-time local preparation run by `make setup` (idempotent).

Each cloud module may add a preparation step here (certificates for the HTTPS
emulators, the offline DuckDB extension for BigQuery, ...).
"""
from __future__ import annotations

from lab.config import settings
from lab.localcloud.gcp import prepare_bigquery_offline
from lab.tls import ensure_ca
from lab.trust import demo_producers, ensure_enrolled


def main() -> int:
    cfg = settings()
    for folder in (cfg.run_dir, cfg.keys_dir, cfg.certs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    cfg.keys_dir.chmod(0o700)
    print(f"local state in {cfg.state_dir}")
    print(f"local CA (trusted only by this lab): {ensure_ca()}")
    prepare_bigquery_offline()  # bqemulator: DuckDB spatial extension from its wheel, never downloaded
    print("BigQuery emulator prepared for offline use")
    for name, silo in demo_producers():  # explicit: the walk-through's default producers, nothing else
        entry = ensure_enrolled(name, silo)
        print(f"producer {name} enrolled for silo {silo} (key {entry.fingerprint[:16]}); "
              "see `python -m lab trust list`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
