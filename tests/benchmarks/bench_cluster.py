"""The batch text stage on a local Dask cluster against the FnApiRunner, same input, same run.

``--records`` generated feedback rows (default 200,000; the input of ``bench_pipeline.py``:
a generated district, ingested, exported as one part) go through ``pipelines.batch.run_part``
twice, with the same trained model:

* **FnApiRunner**, ``--direct_num_workers 2 --direct_running_mode multi_processing``: two SDK
  worker processes, each loading the models once; the baseline;
* **DaskRunner** (``pipelines.dask_runner``) on a scheduler and two ``dask worker`` processes
  of one thread each, started by ``tests.dask_cluster.start_cluster`` before the timer (a
  cluster is up before work is sent to it; its start-up is printed apart). Each worker loads
  the models once, like an SDK worker.

Multi-processing, not in-process threads, on the FnApi side: the Dask workers are processes,
so both sides run the Python work on two interpreters without a shared GIL. Each run's driver
is a fresh process (its imports and pipeline construction are timed, on both sides).

Where the time goes on Dask, all measured in the run: model loading in a fresh process
(what each worker pays once), the graph the driver serialises and sends (bytes, seconds),
and from the scheduler's task stream the workers' compute, inter-worker transfer and
deserialisation, their idle time inside the task span (scheduling and waiting), and the
driver's time outside it. Per-record CPU is the workers' process CPU over the run (model
loading included) and gives the projection of workers needed for a daily volume and for a
backlog. Run on demand, not in ``make test``::

    python tests/benchmarks/bench_cluster.py [--records 200000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_pipeline import _timed_child, prepare, run_apart, tree_rss_mb  # noqa: E402

WORKERS = 2


def lay_out(rows_path: Path, folder: Path) -> None:
    """The part layout the warehouse export gives (as ``bench_pipeline.beam_part``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.windows import ELEMENT_SCHEMA
    from warehouse.staging import ROWS_DIR, ROWS_PER_FILE, STATE_FILE

    rows = pq.read_table(rows_path)
    files = -(-rows.num_rows // ROWS_PER_FILE)
    for k in range(files):
        part = folder / ROWS_DIR / f"file={k}"
        part.mkdir(parents=True)
        pq.write_table(rows.take(list(range(k, rows.num_rows, files))), part / "data_0.parquet",
                       row_group_size=4096)
    pq.write_table(pa.Table.from_pylist([], schema=ELEMENT_SCHEMA), folder / STATE_FILE)


def _tree_cpu(pid: int, seen: dict[int, float]) -> None:
    """CPU seconds (user + system) of a process and its descendants so far, per pid, into
    ``seen`` (Linux /proc; a process that has exited keeps its last sampled figure)."""
    tick = os.sysconf("SC_CLK_TCK")
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            for task in Path(f"/proc/{p}/task").glob("*"):
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        seen[p] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime


def run_sampled(fn: Any, *args: Any) -> tuple[Any, float, float]:
    """``bench_pipeline.run_apart`` that also samples the CPU of the process tree (driver and,
    on the FnApi side, its SDK worker processes) every 0.2 s: result, peak MB, CPU seconds."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_timed_child, args=(out, fn, args))
    child.start()
    peak, cpu = 0.0, {}  # type: ignore[var-annotated]
    while child.is_alive() and out.empty():
        peak = max(peak, tree_rss_mb(child.pid))
        _tree_cpu(child.pid, cpu)
        time.sleep(0.2)
    _, result = out.get()
    child.join()
    return result, peak, sum(cpu.values())


def run_one(rows_path: Path, model_dir: Path, folder: Path, settings, argv: tuple[str, ...],  # type: ignore[no-untyped-def]
            batch_size: int) -> dict[str, Any]:
    """One run of the text stage over a fresh part folder (in a process of its own): items
    written, its seconds, and on Dask the graph's serialised size and time."""
    import pickle

    import pyarrow.parquet as pq

    from models.spec import ModelSpec
    from pipelines.batch import BeamRun, output_counts, run_part
    from pipelines.windows import Watermarks

    logging.basicConfig(level=logging.WARNING, force=True)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    lay_out(rows_path, folder)
    spec = ModelSpec(str(model_dir), str(settings.userdict), str(settings.stopwords))
    run = BeamRun(argv, batch_size=batch_size)
    graph: dict[str, float] = {"bytes": 0, "seconds": 0.0, "tasks": 0}
    if run.on_dask:
        import distributed
        from distributed.protocol.pickle import dumps

        compute = distributed.Client.compute

        def measured(self, collections, *a, **kw):  # type: ignore[no-untyped-def]
            # what the driver ships: the whole task graph, pickled as distributed does
            # (its own pickler, cloudpickle behind), timed here once more on the side
            t = time.perf_counter()
            for c in collections:
                g = dict(c.__dask_graph__())
                graph["bytes"] += len(dumps(g, protocol=pickle.HIGHEST_PROTOCOL))
                graph["tasks"] += len(g)
            graph["seconds"] += time.perf_counter() - t
            return compute(self, collections, *a, **kw)

        distributed.Client.compute = measured  # type: ignore[method-assign]
    t = time.perf_counter()
    counters = run_part(folder, spec, watermarks=Watermarks(), run=run)
    wall = time.perf_counter() - t
    items = counters.get("items") or counters.get("classify_ok", 0)
    if not run.on_dask:  # check against the files, as the Dask side is counted
        items = sum(pq.ParquetFile(f).metadata.num_rows for f in folder.glob("items-*.parquet"))
        assert items == output_counts(folder)["items"]
    return {"items": items, "wall": wall, "graph": graph}


def model_load(model_dir: Path, settings) -> float:  # type: ignore[no-untyped-def]
    """What a worker pays once: the text models loaded and first used (jieba's dictionary
    loads lazily), in a fresh process, as a worker's DoFn setup does."""
    from models.spec import ModelSpec
    from models.text import TextModels

    logging.basicConfig(level=logging.WARNING, force=True)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    models = TextModels.load(ModelSpec(str(model_dir), str(settings.userdict), str(settings.stopwords)))
    models.analyse(["小区门口路灯坏了很久没人修"])
    return time.process_time()  # the CPU seconds of it all, imports included


def _worker_cpu() -> float:
    import time as _t
    return _t.process_time()


def _time_steps() -> None:
    """On a worker: wrap ``pipelines.dask_runner._run_bundle`` (the tasks name it by reference,
    so they call the wrapper) to add up its CPU seconds per Beam step. A step's first bundle
    on a worker includes its DoFn setup (the models load in the first model step's)."""
    import time as _t

    import pipelines.dask_runner as dr

    orig = getattr(dr, "_bench_orig", dr._run_bundle)
    dr._bench_orig, dr._bench_cpu = orig, {}

    def _run_bundle(items, fn_key, fn_bytes, label, *rest):  # type: ignore[no-untyped-def]
        t = _t.process_time()
        try:
            return orig(items, fn_key, fn_bytes, label, *rest)
        finally:
            dr._bench_cpu[label] = dr._bench_cpu.get(label, 0.0) + _t.process_time() - t

    dr._run_bundle = _run_bundle


def _step_cpu() -> dict[str, float]:
    import pipelines.dask_runner as dr
    return dict(getattr(dr, "_bench_cpu", {}))


def _union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def task_split(stream: list[dict[str, Any]], workers: int) -> dict[str, float]:
    """From the scheduler's task stream: the span from the first start to the last stop, and
    in the workers' time over it (``workers`` × span) their compute, the time they spent
    fetching and deserialising data while not computing (a fetch that overlaps a computation
    is not counted again), and the rest: idle (waiting for the scheduler or for work)."""
    per_worker: dict[str, dict[str, list[tuple[float, float]]]] = {}
    start, stop = float("inf"), 0.0
    for task in stream:
        for ss in task.get("startstops", ()):
            w = per_worker.setdefault(task.get("worker", "?"), {})
            w.setdefault(ss["action"], []).append((ss["start"], ss["stop"]))
            start, stop = min(start, ss["start"]), max(stop, ss["stop"])
    span = max(0.0, stop - start)
    compute = sum(_union(w.get("compute", [])) for w in per_worker.values())
    busy = sum(_union([i for v in w.values() for i in v]) for w in per_worker.values())
    return {"span": span, "tasks": len(stream), "compute": compute,
            "data (transfer, deserialise) outside compute": busy - compute,
            "idle (scheduling, waiting)": max(0.0, workers * span - busy)}


def workers_needed(records: float, seconds: float, cpu_per_record: float, efficiency: float) -> int:
    return max(1, math.ceil(records * cpu_per_record / (seconds * efficiency)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each side, alternating (best counts)")
    ap.add_argument("--daily", type=int, default=65_000, help="appeals a day, for the projection")
    ap.add_argument("--backlog", type=int, default=24_000_000, help="backlog records, for the projection")
    ap.add_argument("--backlog-days", type=float, default=7, help="days to clear the backlog in")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)

    from distributed import Client

    from minsheng.settings import load_settings
    from tests.dask_cluster import start_cluster

    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as name:
        tmp = Path(name)
        t = time.perf_counter()
        rows, models = prepare(tmp, args.records, settings)
        print(f"setup (generate, ingest, train): {time.perf_counter() - t:.0f} s")
        load_s, load_cpu, load_mb = run_apart(model_load, models, settings)

        t = time.perf_counter()
        cluster = start_cluster(WORKERS)
        cluster_s = time.perf_counter() - t
        fnapi: dict[str, Any] = {"wall": float("inf")}
        dask: dict[str, Any] = {"wall": float("inf")}
        try:
            with Client(cluster.address, timeout=30) as monitor:
                for i in range(args.repeat):
                    out, mb, cpu = run_sampled(
                        run_one, rows, models, tmp / f"fnapi-{i}", settings,
                        ("--direct_num_workers", str(WORKERS), "--direct_running_mode", "multi_processing"),
                        args.batch_size)
                    out["load"], out["mb"], out["cpu"] = os.getloadavg()[0], mb, cpu
                    if out["wall"] < fnapi["wall"]:
                        fnapi = out
                    shutil.rmtree(tmp / f"fnapi-{i}", ignore_errors=True)

                    monitor.get_task_stream()  # installs the scheduler's task-stream plugin
                    monitor.run(_time_steps)
                    cpu0 = monitor.run(_worker_cpu)
                    t0 = time.time()
                    out, mb, cpu = run_sampled(
                        run_one, rows, models, tmp / f"dask-{i}", settings,
                        ("--runner", "DaskRunner", f"--dask_client_address={cluster.address}"),
                        args.batch_size)
                    stream = monitor.get_task_stream(start=t0)
                    cpu1 = monitor.run(_worker_cpu)
                    out["worker_cpu"] = sum(cpu1[w] - cpu0[w] for w in cpu0)
                    steps: dict[str, float] = {}
                    for per_worker in monitor.run(_step_cpu).values():
                        for label, sec in per_worker.items():
                            steps[label] = steps.get(label, 0.0) + sec
                    out["steps"] = steps
                    out["split"] = task_split(stream, WORKERS)
                    out["load"], out["mb"], out["cpu"] = os.getloadavg()[0], mb, cpu
                    if out["wall"] < dask["wall"]:
                        dask = out
                    shutil.rmtree(tmp / f"dask-{i}", ignore_errors=True)
        finally:
            cluster.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)

    n = args.records
    print(f"{n:,} feedback rows -> {fnapi['items']:,} demand items (Dask: {dask['items']:,}); "
          f"{WORKERS} worker processes each side, {os.cpu_count()} CPUs")
    print(f"FnApiRunner, multi_processing ×{WORKERS}: {fnapi['wall']:7.1f} s  {n / fnapi['wall']:7,.0f} records/s"
          f"  (driver + SDK workers CPU {fnapi['cpu']:.0f} s; 1-min load after {fnapi['load']:.1f})")
    print(f"DaskRunner, scheduler + {WORKERS} workers : {dask['wall']:7.1f} s  {n / dask['wall']:7,.0f} records/s"
          f"  (workers CPU {dask['worker_cpu']:.0f} s, driver CPU {dask['cpu']:.0f} s; "
          f"1-min load after {dask['load']:.1f})")
    print(f"ratio Dask / FnApi                  : {fnapi['wall'] / dask['wall']:7.2f}   (target >= 0.8)")

    s, g = dask["split"], dask["graph"]
    busy = s["compute"] + s["data (transfer, deserialise) outside compute"]
    print(f"\nwhere the Dask run's {dask['wall']:.1f} s go:")
    print(f"  cluster start-up (before the timer)      : {cluster_s:6.1f} s")
    print(f"  model loading, once per worker           : {load_s:6.1f} s  ({load_cpu:.1f} CPU-s, "
          f"imports included, in a fresh process of {load_mb:,.0f} MB)")
    print(f"  graph serialised by the driver           : {g['seconds']:6.2f} s  "
          f"({g['bytes'] / 1e6:.1f} MB, {g['tasks']:,.0f} tasks)")
    print(f"  driver outside the task span             : {dask['wall'] - s['span']:6.1f} s  "
          "(imports, pipeline build and translation, submit, counting the outputs)")
    print(f"  task span (first task start → last stop) : {s['span']:6.1f} s  over {s['tasks']:,.0f} tasks, "
          f"{WORKERS} workers = {WORKERS * s['span']:.1f} worker-s:")
    for part in ("compute", "data (transfer, deserialise) outside compute", "idle (scheduling, waiting)"):
        print(f"    {part:44s}: {s[part]:6.1f} s  ({s[part] / (WORKERS * s['span']):5.1%})")

    steps = dask["steps"]
    print(f"  workers' CPU by Beam step ({dask['worker_cpu']:.0f} s in all; the first model step's "
          "includes the model loading):")
    for label, sec in sorted(steps.items(), key=lambda kv: -kv[1]):
        if sec >= 0.01 * dask["worker_cpu"]:
            print(f"    {label:44s}: {sec:6.1f} s  ({sec / dask['worker_cpu']:5.1%})")
    rest = dask["worker_cpu"] - sum(steps.values())
    print(f"    {'outside the steps (shuffle, filters, comms)':44s}: {rest:6.1f} s  "
          f"({rest / dask['worker_cpu']:5.1%})")

    cpu_per_record = dask["worker_cpu"] / n
    steady = max(0.0, dask["worker_cpu"] - WORKERS * load_cpu) / n
    efficiency = busy / (WORKERS * s["span"]) if s["span"] else 1.0
    print(f"\nper-record CPU on the workers: {cpu_per_record * 1e3:.2f} ms "
          f"({steady * 1e3:.2f} ms without the model loading); FnApi side (driver + SDK workers): "
          f"{fnapi['cpu'] / n * 1e3:.2f} ms")
    print(f"projection: one worker = one core, busy {efficiency:.0%} of the time as measured here, "
          f"+ {load_cpu:.0f} CPU-s model loading each")
    for label, volume, seconds in (
            (f"{args.daily:,} appeals a day, as they come (24 h)", args.daily, 86_400),
            (f"{args.daily:,} appeals a day, in a 1-hour nightly batch", args.daily, 3_600),
            (f"{args.backlog:,} backlog in {args.backlog_days:g} days", args.backlog, args.backlog_days * 86_400),
            (f"{args.backlog:,} backlog in 1 day", args.backlog, 86_400)):
        k = workers_needed(volume, seconds - load_cpu, steady, efficiency)
        print(f"  {label:46s}: {k:4d} worker(s)  ({volume * steady / 3600:,.1f} CPU-hours)")


if __name__ == "__main__":
    main()
