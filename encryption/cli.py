"""The command line behind ``python -m encryption`` (kept here so classes load once)."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from encryption.cache import CachingKeyProvider
from encryption.envelope import decrypt, encrypt, read_header
from encryption.errors import EnvelopeError
from encryption.providers.base import KeyProvider
from encryption.providers.local import LocalKeyProvider, create_key_file, default_key_file
from lab.cli import LabError, atomic_write, console, count, output_file, parser, print_summary
from lab.config import settings

DESCRIPTION = """\
Envelope encryption: AES-256-GCM data keys wrapped by a key service (local key file or AWS KMS).

examples:
  python -m encryption keygen --out .lab/keys/demo-kek.json
  python -m encryption encrypt --key-file .lab/keys/demo-kek.json \\
      --context silo=aws --context dataset=train --in data.jsonl --out data.jsonl.env
  python -m encryption header --in data.jsonl.env
  python -m encryption decrypt --key-file .lab/keys/demo-kek.json \\
      --context silo=aws --context dataset=train --in data.jsonl.env --out data.jsonl
  python -m encryption rotate --key-file .lab/keys/demo-kek.json
  python -m encryption rewrap --dir landing/ --key-file .lab/keys/demo-kek.json

With --provider aws and LAB_AWS_MODE=local (the default), the command uses the moto
server that `python -m lab up aws` left running, or starts one for its own duration.
"""


def parse_context(items: Sequence[str]) -> dict[str, str]:
    """``["silo=aws", "dataset=train"]`` → a context dict; clear errors for bad items."""
    context: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise LabError(f"--context expects key=value, got {item!r}")
        if key in context:
            raise LabError(f"--context {key!r} given twice")
        context[key] = value
    return context


def _provider_args(p: argparse.ArgumentParser, prefix: str = "", role: str = "") -> None:
    dash = f"--{prefix}"
    p.add_argument(f"{dash}provider", choices=("local", "aws"), default=None if prefix else "local",
                   help=f"key service{role} (default: {'same as --provider' if prefix else 'local'})")
    p.add_argument(f"{dash}key-file", type=Path, default=None,
                   help=f"local key file{role} (default: {default_key_file()})")
    p.add_argument(f"{dash}key-id", default=None, help=f"AWS KMS key id, ARN or alias/NAME{role}")


def _io_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--in", dest="infile", type=Path, default=None, help="input file (default: stdin)")
    p.add_argument("--out", dest="outfile", type=output_file, default=None, help="output file (default: stdout)")


def build_parser() -> argparse.ArgumentParser:
    p = parser("python -m encryption", DESCRIPTION)
    sub = p.add_subparsers(dest="command", required=True)

    kg = sub.add_parser("keygen", help="create a local key file (0600), or an AWS KMS key with --provider aws")
    kg.add_argument("--provider", choices=("local", "aws"), default="local")
    kg.add_argument("--out", type=output_file, default=None, help=f"local key file to create (default: {default_key_file()})")
    kg.add_argument("--force", action="store_true", help="overwrite an existing key file (old envelopes become unreadable)")
    kg.add_argument("--alias", default=None, help="AWS: alias to give the new key, e.g. alias/secure-ai-lab-demo")

    for name, help_text in (("encrypt", "seal a file under a fresh data key"),
                            ("decrypt", "open an envelope; writes nothing unless it authenticates")):
        sp = sub.add_parser(name, help=help_text)
        _provider_args(sp)
        sp.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                        help="encryption context item (repeat); decrypt needs exactly the same set")
        _io_args(sp)

    hd = sub.add_parser("header", help="print an envelope's header as JSON (no key service needed)")
    hd.add_argument("--in", dest="infile", type=Path, default=None, help="envelope file (default: stdin)")

    rt = sub.add_parser("rotate", help="rotate the key: new local KEK version, or AWS rotate-on-demand")
    _provider_args(rt)
    rt.add_argument("--enable-automatic", type=count(2560, lower=90), default=None, metavar="DAYS",
                    help="AWS: also turn on automatic rotation every DAYS (90..2560)")

    rw = sub.add_parser("rewrap", help="re-wrap every envelope under a folder to the current key (resumable)")
    rw.add_argument("--dir", type=Path, required=True, help="folder of envelopes (object keys are paths below it)")
    rw.add_argument("--prefix", default="", help="only object keys starting with this")
    _provider_args(rw, role=" of the target")
    _provider_args(rw, prefix="from-", role=" the envelopes are under now")
    rw.add_argument("--checkpoint", type=output_file, default=None,
                    help="progress file (default: <state dir>/rewrap-<folder name>.json)")
    rw.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    return p


@contextlib.contextmanager
def _aws_endpoint(needed: bool) -> Iterator[None]:
    """Use the configured AWS endpoint; in local mode without one, reuse or start moto."""
    if not needed or settings().aws_mode != "local" or os.environ.get("AWS_ENDPOINT_URL"):
        yield
        return
    from lab.localcloud import EmulatorError, local_cloud

    try:
        with local_cloud("aws") as cloud:
            if cloud.owned:
                console.print("[yellow]note:[/] started moto for this command only; its KMS keys vanish "
                              "when it stops. Run `python -m lab up aws` to keep keys between commands.")
            yield
    except EmulatorError as exc:
        raise LabError(str(exc)) from exc


def make_provider(kind: str, key_file: Path | None, key_id: str | None) -> KeyProvider:
    """A (cached) provider from command-line choices."""
    if kind == "aws":
        if not key_id:
            raise LabError("--provider aws needs --key-id (a KMS key id, ARN or alias/NAME)")
        from encryption.providers.aws_kms import AwsKmsProvider

        return CachingKeyProvider(AwsKmsProvider(key_id))
    if key_id:
        raise LabError("--key-id is for --provider aws; the local provider takes --key-file")
    return CachingKeyProvider(LocalKeyProvider(key_file))


def _read_input(path: Path | None) -> bytes:
    try:
        return path.read_bytes() if path is not None else sys.stdin.buffer.read()
    except OSError as exc:
        raise LabError(f"cannot read {path}: {exc.strerror}") from None


def _write_output(path: Path | None, data: bytes, private: bool) -> None:
    """Write all or nothing: a temporary file renamed into place (0600 for plaintext)."""
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        atomic_write(path, data, mode=0o600 if private else 0o644)
    except OSError as exc:
        raise LabError(f"cannot write {path}: {exc.strerror}") from None


def _keygen(args: argparse.Namespace) -> dict[str, Any]:
    if args.provider == "local":
        path = args.out or default_key_file()
        return {"provider": "local", "key_file": str(path), "key_id": create_key_file(path, overwrite=args.force)}
    from encryption.providers.aws_kms import kms_call, kms_client

    client = kms_client()
    meta = kms_call(client, "create_key", "new key", Description=f"{settings().name_prefix} envelope key",
                    KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    if args.alias:
        alias = args.alias if args.alias.startswith("alias/") else f"alias/{args.alias}"
        kms_call(client, "create_alias", alias, AliasName=alias, TargetKeyId=meta["KeyId"])
    return {"provider": "aws-kms", "key_id": meta["Arn"], "alias": args.alias}


def _rotate(args: argparse.Namespace) -> dict[str, Any]:
    if args.provider == "local":
        provider = LocalKeyProvider(args.key_file)
        old = provider.current_key_id()
        return {"provider": "local", "previous_key_id": old, "current_key_id": provider.rotate(),
                "versions": provider.versions()}
    if not args.key_id:
        raise LabError("--provider aws needs --key-id")
    from encryption.providers.aws_kms import kms_client
    from encryption.rotation import enable_key_rotation, rotate_key_on_demand, rotation_status

    client = kms_client()
    if args.enable_automatic is not None:
        enable_key_rotation(client, args.key_id, args.enable_automatic)
    rotate_key_on_demand(client, args.key_id)
    return rotation_status(client, args.key_id)


def _rewrap(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    from encryption.rotation import ENVELOPE_SUFFIX, rewrap
    from lab.storage import LocalDirStore

    if not args.dir.is_dir():
        raise LabError(f"--dir {args.dir} is not a folder")
    new = make_provider(args.provider, args.key_file, args.key_id)
    old = new  # default: envelopes under older versions of the same key (after `rotate`)
    if args.from_provider or args.from_key_file or args.from_key_id:
        old_kind = args.from_provider or args.provider
        same_kind = old_kind == args.provider
        old = make_provider(old_kind, args.from_key_file or (args.key_file if same_kind else None),
                            args.from_key_id or (args.key_id if same_kind else None))
    store = LocalDirStore(args.dir)
    keys = [k for k in store.list(args.prefix) if k.endswith(ENVELOPE_SUFFIX)]
    checkpoint = args.checkpoint or settings().state_dir / f"rewrap-{args.dir.resolve().name}.json"
    result = rewrap(store, keys, old, new, checkpoint, progress=True)
    summary = result.as_dict() | {"dir": str(args.dir), "checkpoint": str(checkpoint), "kms_calls": new.calls
                                  + (old.calls if old is not new else 0)}
    return summary, result.ok


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    uses_aws = "aws" in (getattr(args, "provider", None), getattr(args, "from_provider", None))
    try:
        with _aws_endpoint(uses_aws):
            if args.command in ("encrypt", "decrypt"):
                context = parse_context(args.context)
                provider = make_provider(args.provider, args.key_file, args.key_id)
                data = _read_input(args.infile)
                if args.command == "encrypt":
                    _write_output(args.outfile, encrypt(data, provider, context), private=False)
                else:
                    _write_output(args.outfile, decrypt(data, provider, context), private=True)
                return 0
            if args.command == "header":
                header = read_header(_read_input(args.infile))
                print(json.dumps({"version": header.version} | header.to_json(), indent=2))
                return 0
            if args.command == "keygen":
                print(json.dumps(_keygen(args)))
                return 0
            if args.command == "rotate":
                print(json.dumps(_rotate(args), default=str))
                return 0
            summary, ok = _rewrap(args)
            print_summary(summary, args.json, "re-wrap")
            if not ok:
                raise LabError(f"{len(summary['failed'])} object(s) failed to re-wrap; see 'failed' above")
            return 0
    except EnvelopeError as exc:
        raise LabError(f"{type(exc).__name__}: {exc}") from None
