"""``python -m lab trust list | enroll NAME --silo S | revoke NAME``: the operator's only way
to change which producers the lab trusts (see ``lab.trust``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from lab.trust import SILOS, TrustError, TrustFile, fingerprint, load_public_key, producer_key, raw_public

EPILOG = """examples:
  python -m lab trust list
  python -m lab trust enroll aws-producer-c --silo aws                 # this machine's key for it (created if new)
  python -m lab trust enroll partner-1 --silo gcp --public-key p1.pem  # a key held elsewhere
  python -m lab trust revoke aws-producer-b --reason "key stolen"
  python -m lab trust enroll aws-producer-b --silo aws --new-key       # back, with a fresh key
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trust", help="list, enrol or revoke record producers (the sealed trust store)",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    tsub = p.add_subparsers(dest="trust_command", required=True)
    tsub.add_parser("list", help="every enrolled producer, its silo, key fingerprint and status")
    e = tsub.add_parser("enroll", help="trust a producer's key for one silo")
    e.add_argument("name", help="producer name, e.g. aws-producer-c")
    e.add_argument("--silo", required=True, choices=SILOS, help="the only silo its records may belong to")
    src = e.add_mutually_exclusive_group()
    src.add_argument("--public-key", type=Path, help="PEM Ed25519 public key (default: this machine's key for NAME)")
    src.add_argument("--new-key", action="store_true", help="generate a fresh key for NAME first (after a revocation)")
    r = tsub.add_parser("revoke", help="stop trusting a producer, for good (its key can never come back)")
    r.add_argument("name")
    r.add_argument("--reason", default="", help="why (kept in the store)")


def run(args: argparse.Namespace) -> int:
    store = TrustFile()
    if args.trust_command == "list":
        producers = store.producers()
        if not producers:
            print(f"no producer is enrolled ({store.path}); enrol one: python -m lab trust enroll NAME --silo S")
        for p in sorted(producers.values(), key=lambda e: e.name):
            state = "active" if p.active else f"REVOKED {p.revoked_at}" + (f" ({p.reason})" if p.reason else "")
            print(f"{p.name:<24} {p.silo:<6} {p.fingerprint[:16]}  enrolled {p.enrolled_at}  {state}")
        return 0
    if args.trust_command == "enroll":
        if args.public_key is not None:
            raw = load_public_key(args.public_key)
        else:
            raw = raw_public(producer_key(args.name, new=args.new_key).public_key())
        if fingerprint(raw) in store.revoked_keys():
            raise TrustError(f"this key of {args.name!r} was revoked; enrol a new one with --new-key")
        entry = store.enroll(args.name, args.silo, raw)
        print(f"enrolled {entry.name} for silo {entry.silo} (key {entry.fingerprint[:16]}) in {store.path}")
        return 0
    entry = store.revoke(args.name, args.reason)
    print(f"revoked {entry.name} (key {entry.fingerprint[:16]}) at {entry.revoked_at}; "
          "its records are refused from now on, by every reader")
    return 0
