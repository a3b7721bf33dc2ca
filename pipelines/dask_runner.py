"""Beam's DaskRunner with the graph translation the bounded text stage needs (see
:mod:`pipelines.dask` for what Beam's lacks). Imported by Beam from ``--runner``
(:data:`pipelines.dask.DASK_RUNNER`), on the driver only: the workers unpickle the DoFns.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import threading
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.internal import pickler
from apache_beam.runners.dask.dask_runner import DaskRunner as BeamDaskRunner
from apache_beam.transforms.window import GlobalWindow, GlobalWindows
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

_FNS: dict[tuple[Any, ...], Any] = {}  # set-up DoFns of this worker process, per thread


def _stable_key(key: Any) -> int:
    """A digest of a key, the same in every process (``hash()`` of a str is salted)."""
    return int.from_bytes(hashlib.blake2b(pickle.dumps(key, protocol=4), digest_size=8).digest(), "big")


def _global(value: Any) -> WindowedValue:
    return WindowedValue(value, MIN_TIMESTAMP, (GlobalWindow(),))


def _run_bundle(items: Iterable[WindowedValue], fn_key: tuple[Any, ...], fn_bytes: bytes,
                label: str, args: list[Any], kwargs: dict[str, Any],
                window_fn: Any) -> list[tuple[Any, WindowedValue]]:
    """A Dask partition as one bundle of a DoFn: (tag, windowed value) for every output,
    ``finish_bundle``'s included. The DoFn is set up once per worker thread and kept."""
    from apache_beam.runners.common import (
        DoFnContext,
        DoFnInvoker,
        DoFnSignature,
        Receiver,
        _OutputHandler,
    )

    key = (*fn_key, threading.get_ident())
    fn = _FNS.get(key)
    fresh = fn is None
    if fresh:
        fn = pickler.loads(fn_bytes)
    out: list[tuple[Any, WindowedValue]] = []

    class _Tagged(Receiver):
        def __init__(self, tag: Any) -> None:
            self.tag = tag

        def receive(self, windowed_value: WindowedValue) -> None:
            out.append((self.tag, windowed_value))

    class _Receivers(dict):
        def __missing__(self, tag: Any) -> _Tagged:
            self[tag] = _Tagged(tag)
            return self[tag]

    receivers = _Receivers()
    handler = _OutputHandler(
        window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
        per_element_output_counter=None, output_batch_converter=None,
        process_yields_batches=False, process_batch_yields_elements=False)
    invoker = DoFnInvoker.create_invoker(
        DoFnSignature(fn), handler, context=DoFnContext(label, state=None), side_inputs=None,
        input_args=args, input_kwargs=kwargs, user_state_context=None,
        bundle_finalizer_param=beam.DoFn.BundleFinalizerParam())
    if fresh:
        invoker.invoke_setup()
        _FNS[key] = fn
    invoker.invoke_start_bundle()
    for item in items:
        invoker.invoke_process(item)
    invoker.invoke_finish_bundle()
    return out


def _group(partition: Iterable[tuple[int, list[WindowedValue]]]) -> list[WindowedValue]:
    """Groups of one digest → (key, values) per key, in the global window."""
    out = []
    for _, members in partition:
        by_key: dict[Any, list[Any]] = {}
        for wv in members:
            k, v = wv.value
            by_key.setdefault(k, []).append(v.value if isinstance(v, WindowedValue) else v)
        out += [_global((k, vs)) for k, vs in by_key.items()]
    return out


def _count(partition: Iterable[Any]) -> list[int]:
    return [sum(1 for _ in partition)]


def _tag_is(item: tuple[Any, Any], tag: Any) -> bool:
    return item[0] == tag


def _untag(item: tuple[Any, WindowedValue]) -> WindowedValue:
    return item[1]


class _Translate(beam.pipeline.PipelineVisitor):
    """Each leaf transform → a Dask bag of windowed values per output PCollection."""

    def __init__(self, npartitions: int | None) -> None:
        self.bags: dict[pvalue.PValue, Any] = {}
        self.consumed: set[pvalue.PValue] = set()
        self.npartitions = npartitions

    def leaves(self) -> list[Any]:
        return [b for pc, b in self.bags.items() if pc not in self.consumed]

    def visit_transform(self, node: beam.pipeline.AppliedPTransform) -> None:
        import dask.bag as db
        from apache_beam.runners.dask import overrides

        t = node.transform
        inputs = [i for i in node.inputs if not isinstance(i, pvalue.PBegin)]
        self.consumed.update(inputs)
        if node.side_inputs:
            raise NotImplementedError(f"{node.full_label}: side inputs are not supported on Dask")
        outputs = dict(node.outputs)
        if isinstance(t, overrides._Create):
            values = list(t.values)
            bag = db.from_sequence(values, npartitions=min(len(values), self.npartitions or len(values)) or 1)
            bag = bag.map(_global)
        elif isinstance(t, overrides._Flatten):
            bag = db.concat([self.bags[i] for i in inputs])
        elif isinstance(t, overrides._GroupByKeyOnly):
            (src,) = inputs
            bag = (self.bags[src]
                   .groupby(lambda wv: _stable_key(wv.value[0]), shuffle="tasks")
                   .map_partitions(_group))
        elif isinstance(t, overrides._GroupAlsoByWindow):
            (src,) = inputs  # bounded, global window: the grouped values as they are
            bag = self.bags[src]
        elif isinstance(t, beam.WindowInto):
            raise NotImplementedError(f"{node.full_label}: Beam windowing is not supported on Dask")
        elif isinstance(t, beam.ParDo):
            (src,) = inputs
            args, kwargs = t.raw_side_inputs
            fn_bytes = pickler.dumps(t.fn)  # Beam's pickler: lambdas and closures too
            fn_key = (node.full_label, hashlib.sha256(fn_bytes).hexdigest())
            window_fn = getattr(src, "windowing", None)
            window_fn = window_fn.windowfn if window_fn is not None else GlobalWindows()
            tagged = self.bags[src].map_partitions(
                _run_bundle, fn_key, fn_bytes, node.full_label, list(args), dict(kwargs), window_fn)
            for tag, pc in outputs.items():
                want = None if tag in (None, "None") else tag
                self.bags[pc] = tagged.filter(functools.partial(_tag_is, tag=want)).map(_untag)
            return
        else:  # _Reshuffle, Impulse-free reads: an identity, as in Beam's DaskRunner
            if len(inputs) != 1:
                raise NotImplementedError(f"{node.full_label}: {type(t).__name__} is not supported on Dask")
            bag = self.bags[inputs[0]]
        for pc in outputs.values():
            self.bags[pc] = bag


class DaskRunner(BeamDaskRunner):
    """Beam's DaskRunner with this module's translation (see the module docstring)."""

    def run_pipeline(self, pipeline: beam.Pipeline, options: Any) -> Any:
        import dask.distributed as ddist
        from apache_beam.runners.dask.dask_runner import DaskOptions, DaskRunnerResult
        from apache_beam.runners.dask.overrides import dask_overrides

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        pipeline.replace_all(dask_overrides())
        visitor = _Translate(bag_kwargs.get("npartitions"))
        pipeline.visit(visitor)
        client = ddist.Client(**dask_options)
        # every leaf (the sinks), each partition reduced to its length: nothing large
        # travels back to the client. Handed to one compute as they are: through
        # dask.optimize(*leaves) first, the steps the sinks share were not shared and the text
        # stage ran once per sink, four times (counted per step, tests/benchmarks/bench_cluster.py)
        leaves = [b.map_partitions(_count) for b in visitor.leaves()]
        futures = client.compute(leaves)
        return DaskRunnerResult(client, futures)
