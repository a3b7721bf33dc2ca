"""The bounded text stage on a Dask cluster (``--runner DaskRunner --dask_client_address
tcp://HOST:PORT``): Beam's DaskRunner, with what this pipeline needs and it lacks.

Beam's DaskRunner (``apache_beam.runners.dask``) turns each Beam transform into a Dask bag
operation. As of Beam 2.77 it, among other things:

* translates ``Read`` (``ReadFromParquet`` and every file source) into nothing: only
  ``beam.Create`` starts a pipeline;
* sends every output of a multi-output ``ParDo`` (``with_outputs``) to each consumer: the
  dead letters would flow on with the good batches;
* drops what a DoFn emits in ``finish_bundle`` (the Parquet row groups are emitted there);
* computes only the last transform's bag, so of several sinks only one would run;
* ignores windows (``WindowInto`` and ``GroupAlsoByWindow`` are no-ops), groups by
  Python's ``hash()`` (salted per process) and reports no metrics.

:class:`pipelines.dask_runner.DaskRunner` is Beam's with its own graph translation: one bag per
PCollection (tagged outputs apart), ``finish_bundle`` outputs kept, every sink computed,
a group-by-key on a digest of the key (the same in every process), ``WindowInto`` refused,
and DoFns set up once per worker thread (the text models load once per worker process).
The pipeline itself is :func:`pipelines.batch.build`'s: the same composite transforms,
with a Create-based source and a content-named sink in place of Beam's Parquet IO (see
:func:`read_rows` and :class:`WriteContentNamed`). It is a bounded runner only.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

DASK_RUNNER = "pipelines.dask_runner.DaskRunner"


def is_dask(runner: str | None) -> bool:
    """Whether ``runner`` (a ``--runner`` value) names the Dask runner."""
    return runner is not None and runner.rsplit(".", 1)[-1] == "DaskRunner"


# --- the source and the sink used on Dask in place of Beam's Parquet IO ------------------------

def chunks(files: Iterable[str], rows: int) -> list[tuple[str, int, int]]:
    """(file, first row, row count) pieces of at most ``rows`` rows: one Dask partition each,
    so that work spreads over the workers at a finer grain than the exported files."""
    out = []
    for f in sorted(files):
        n = pq.ParquetFile(f).metadata.num_rows
        out += [(f, start, min(rows, n - start)) for start in range(0, n, rows)]
    return out


def read_chunk(chunk: tuple[str, int, int]) -> pa.Table:
    """A chunk's rows."""
    path, start, n = chunk
    return pq.read_table(path).slice(start, n)


class WriteContentNamed(beam.DoFn):
    """A bundle's rows (batches of dicts, or dicts) → one Parquet file
    ``<kind>-<digest of its content>.parquet``, written to a temporary name and renamed:
    a retried or recomputed bundle writes the same bytes under the same name, so nothing is
    written twice and no half-written file is ever under the final name."""

    def __init__(self, folder: str, kind: str, schema: pa.Schema, batched: bool) -> None:
        self.folder, self.kind, self.schema, self.batched = folder, kind, schema, batched

    def start_bundle(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def process(self, element: Any) -> None:
        if self.batched:
            self.rows.extend(element.to_pylist() if isinstance(element, pa.Table) else element)
        else:
            self.rows.append(element)

    def finish_bundle(self) -> None:
        if not self.rows:
            return
        table = pa.Table.from_pylist(self.rows, schema=self.schema)
        buf = io.BytesIO()
        pq.write_table(table, buf)
        data = buf.getvalue()
        name = f"{self.kind}-{hashlib.sha256(data).hexdigest()[:24]}.parquet"
        tmp = os.path.join(self.folder, f".tmp-{uuid.uuid4().hex}")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.folder, name))
        self.rows = []
