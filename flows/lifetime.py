"""The processes the CLI starts end with it, however it ends.

Prefect starts a temporary API server (a uvicorn subprocess) when no server is configured,
and Beam's multi-processing runner starts worker processes. When the CLI exits normally they
are stopped; when it is killed (``kill -9``, the OOM killer) nobody stops them. On Linux each
child the CLI starts therefore asks the kernel for a signal when its parent dies
(``PR_SET_PDEATHSIG``), set between fork and exec, so that it dies with the CLI.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1

_installed = False


def _parent_death_hook(parent: int, then: Callable[[], Any] | None) -> Callable[[], None]:
    # looked up before the fork: the child between fork and exec must not load libraries
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request: do as it would have
            os._exit(1)
        if then is not None:
            then()

    return hook


class _DieWithParent(subprocess.Popen):  # type: ignore[type-arg]
    def __init__(self, *args: Any, preexec_fn: Callable[[], Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, preexec_fn=_parent_death_hook(os.getpid(), preexec_fn), **kwargs)


def children_die_with_this_process() -> None:
    """From now on every subprocess this process starts gets SIGKILL when it dies (Linux;
    elsewhere nothing changes). The kernel ties the signal to the thread that started the
    child: Prefect starts its server from its long-lived event-loop thread, Beam its workers
    from the runner's, which outlive them."""
    global _installed
    if _installed or not sys.platform.startswith("linux"):
        return
    subprocess.Popen = _DieWithParent  # type: ignore[misc]
    _installed = True
