"""A step-by-step console: each step shows a spinner, then one line with its result.

A step proves one stated claim. It starts unproven: unless its body records the check
(``s["ok"] = <condition>``), it ends as failed ("nothing was checked"), so a ✓ always
means a condition was evaluated and held."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape


@dataclass
class StepLog:
    """What each step reported, in order; ``ok`` is False once any step's check failed."""

    console: Console = field(default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True))
    rows: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r["ok"] for r in self.rows)

    @contextmanager
    def step(self, title: str, claim: str = "", show_spinner: bool = True) -> Iterator[dict[str, object]]:
        """``with log.step("Ingest aws", claim="...") as s: ...; s["result"] = "..."; s["ok"] = check``."""
        row: dict[str, object] = {"step": title, "claim": claim, "ok": None, "result": ""}
        started = time.perf_counter()
        try:
            if show_spinner:
                with self.console.status(f"[bold]{title}[/] ..."):
                    yield row
            else:
                self.console.print(f"[bold]{title}[/] ...")
                yield row
        except Exception as exc:
            row["ok"] = False
            row["result"] = f"failed: {exc}"
            raise
        finally:
            if row["ok"] is None:
                row["ok"] = False
                row["result"] = f"{row['result']} (nothing was checked: not proven)".strip()
            row["ok"] = bool(row["ok"])
            row["seconds"] = round(time.perf_counter() - started, 1)
            self.rows.append(row)
            mark = "[green]✓[/]" if row["ok"] else "[red]✗[/]"
            self.console.print(f"{mark} {escape(title):<44} {escape(str(row['result']))}  [dim]({row['seconds']} s)[/]")
            if claim:
                self.console.print(f"  [dim]claim: {escape(claim)}[/]")
