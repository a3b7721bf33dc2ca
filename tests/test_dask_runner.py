"""The batch text stage on a local Dask cluster (a scheduler and two worker processes):
the warehouse it leaves equals the FnApiRunner's on the same input."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.dask_cluster import dask_cluster  # noqa: F401 (fixture)
from tests.pipeline_support import copy_channels, fresh_warehouse, generated_inputs, snapshot, trained_models

pytestmark = pytest.mark.slow


def _run(root: Path, inbox: Path, models: Path, settings, argv: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from minsheng.channels import read_file
    from models.spec import ModelSpec
    from pipelines.batch import BeamRun, stage_part
    from pipelines.inbox import Inbox
    from pipelines.streaming import ingest_new
    from warehouse.issues import IssueSettings
    from warehouse.resource import Warehouse
    from warehouse.staging import load_part

    db = fresh_warehouse(root / "w.duckdb")
    wh = Warehouse(db)
    ingest_new(wh, Inbox(inbox, settle=0.5),
               lambda c, p: read_file(c, p, settings.mapping(c), settings.district))
    spec = ModelSpec(str(models), str(settings.userdict), str(settings.stopwords))
    part = stage_part(wh, root / "staging", spec, mode="batch", run=BeamRun(tuple(argv)))
    assert part is not None and part.feedback > 0
    load_part(wh, part, IssueSettings())
    return snapshot(db)


def test_dask_run_equals_fnapi_run(dask_cluster, settings, tmp_path_factory):  # noqa: F811
    base = tmp_path_factory.getbasetemp()
    models, inputs = trained_models(base, settings), generated_inputs(base, settings)
    inbox = tmp_path_factory.mktemp("dask") / "inbox"
    copy_channels(inputs, inbox, "hotline", "platform", "meetings")
    old = time.time() - 3600
    for p in inbox.rglob("*"):
        os.utime(p, (old, old))
    local = _run(tmp_path_factory.mktemp("fnapi"), inbox, models, settings, [])
    on_dask = _run(tmp_path_factory.mktemp("on-dask"), inbox, models, settings,
                   ["--runner", "DaskRunner", f"--dask_client_address={dask_cluster.address}"])
    assert {k for k in local if local[k] != on_dask[k]} == set()
