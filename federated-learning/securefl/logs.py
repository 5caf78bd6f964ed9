"""Flower's and Ray's logs and warnings go to the run's log file, not the student's console.

Flower logs through its own ``flwr`` logger (with a console handler of its own) and warns
through Python's ``warnings`` (Ray's FutureWarning, Opacus's notes). A student reads a
"DEPRECATED FEATURE" banner or "No fit_metrics_aggregation_fn provided" as something being
broken, so during a quiet run both are written to ``fl_run.log`` next to ``fl_run.json``;
``--verbose`` (``quiet=False``) keeps them on the console as well.
"""
from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOG_NAME = "fl_run.log"
FLOWER_LOGGERS = ("flwr", "ray", "opacus")


@contextmanager
def flower_logs(path: Path, quiet: bool = True) -> Iterator[Path]:
    """Route the Flower/Ray/Opacus loggers and Python warnings to ``path`` for the duration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    saved: list[tuple[logging.Logger, list[logging.Handler], bool, int]] = []
    for name in FLOWER_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.propagate, logger.level))
        if quiet:
            logger.handlers = [handler]
            logger.propagate = False
        else:
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    warn_log = logging.getLogger("securefl.warnings")
    saved.append((warn_log, list(warn_log.handlers), warn_log.propagate, warn_log.level))
    warn_log.handlers, warn_log.propagate = [handler], not quiet

    def to_log(message: Any, category: type[Warning], filename: str, lineno: int, *_: Any, **__: Any) -> None:
        warn_log.warning("%s: %s (%s:%s)", category.__name__, message, filename, lineno)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = to_log  # restored by catch_warnings on exit
        try:
            yield path
        finally:
            for logger, handlers, propagate, level in saved:
                logger.handlers, logger.propagate = handlers, propagate
                logger.setLevel(level)
            handler.close()
