"""Fuzzing the channel readers: the generator's exports, mutated, for a fixed time.

Each try takes one export of a generated district (hotline and survey CSV, platform JSON
Lines, meeting notes; a WeChat export made of the platform's messages), applies one to
three mutations — byte flips, truncations, re-encodings (GB18030, UTF-16 with and without a
BOM), CR or CRLF line ends, huge fields, deeply nested JSON, lone surrogates, 5,000-digit
numbers, NULs, unterminated quotes, bad times — and reads it with
``minsheng.channels.read_file`` into a batch (and its feedback rows). A file rejected whole
(``UnreadableInput``) is a refusal; any other exception escaping the reader is a crash, and
a file read for longer than ``--file-seconds`` a stall. Printed per channel: files tried,
refused, rows loaded and quarantined, crashes, stalls, files whose read wrote to stderr, the
slowest file; then the quarantine reasons by channel, and each crash's type (its input kept
under ``--keep`` to reproduce it).

Baseline, in the same run: the unmutated exports read the same way (files per second).
Target: 0 crashes in 10,000 mutated files.

    python tests/benchmarks/bench_fuzz.py [--seconds 120] [--seed 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BAD_TIMES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-13-45 25:61:61", "",
             "99999999999999999999", "46329.99999999", "2026年2月30日", "0000-00-00 00:00:00",
             "2026-11-03T09:00:00+99:99", "1e308", "NaN", "2026-11-03T09:00:00\x00"]
_TIME = re.compile(rb"\d{4}[-/]\d{1,2}[-/]\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?|\d{4}-\d{2}-\d{2}")


def seeds(root: Path) -> list[tuple[str, Path]]:
    """(channel, file) for every export of a small generated district."""
    from minsheng.channels import CHANNELS, discover
    from minsheng.demo.generate import generate_district
    from minsheng.settings import load_settings

    s = load_settings()
    generate_district(root, 1, 11, district=s.district, taxonomy=s.taxonomy, scale=0.04)
    found = [(ch, f) for ch in CHANNELS for f in discover(root, ch)]
    if "wechat" in CHANNELS and not any(ch == "wechat" for ch, _ in found):
        # the generator writes no WeChat export: one made of the platform's messages, in the
        # mini-program's field names and its local-time format
        found += [("wechat", wechat_export(f, root)) for ch, f in found if ch == "platform"
                  and f.suffix == ".jsonl"][:2]
    return found


def wechat_export(platform: Path, root: Path) -> Path:
    import json
    from datetime import datetime

    out = root / "wechat" / platform.name.replace("messages", "wechat")
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in platform.read_text(encoding="utf-8").splitlines():
        m = json.loads(line)
        when = datetime.fromisoformat(m["posted_at"]).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(json.dumps({"openid": f"o{m['user'][-6:]}wx", "time": when, "community": m["community"],
                                 "text": m["content"]}, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [data]


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    kind = rng.choice(MUTATIONS)
    return kind(data, rng), kind.__name__


def flip(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data) + 1)]


def reencode(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", errors="replace")
    enc = rng.choice(["gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "big5", "latin-1"])
    return text.encode(enc, errors="replace")


def line_ends(data: bytes, rng: random.Random) -> bytes:
    return data.replace(b"\n", rng.choice([b"\r", b"\r\n", b"\n\n", b"\r\r\n"]))


def huge_field(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    size = rng.choice([6_000, 100_000, 1_000_000, 6_000_000])
    filler = rng.choice(["楼", "x", "，", "\"", " "]).encode() * size
    cut = rng.randrange(len(lines[i]) + 1)
    lines[i] = lines[i][:cut] + filler + lines[i][cut:]
    return b"".join(lines)


def deep_json(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    depth = rng.choice([100, 1_000, 100_000])
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
    lines.insert(rng.randrange(len(lines) + 1), opener * depth + b"1" + closer * depth + b"\n")
    return b"".join(lines)


def json_values(data: bytes, rng: random.Random) -> bytes:
    value = rng.choice([b'"\\ud800"', b'"\\udfff\\ud800"', b"9" * 5000, b"-1e99999", b"NaN",
                        b'"\\u0000"', b"null", b"[]", b"{}", b"true", b'"' + "号" .encode() * 10 + b'"'])
    return re.sub(rb'(:\s*)("(?:[^"\\]|\\.)*"|-?\d+)', lambda m: m.group(1) + value if rng.random() < 0.2
                  else m.group(0), data)


def bad_time(data: bytes, rng: random.Random) -> bytes:
    return _TIME.sub(lambda m: rng.choice(BAD_TIMES).encode() if rng.random() < 0.3 else m.group(0), data)


def controls(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        b.insert(rng.randrange(len(b) + 1), rng.choice([0, 0x1c, 0x0b, 0x85, 0x1f, 0x7f]))
    return bytes(b)


def quotes(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        b.insert(rng.randrange(len(b) + 1), ord(rng.choice('"\',\t\\')))
    return bytes(b)


def shuffle_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    op = rng.choice(["dup", "drop", "swap", "header"])
    if op == "dup":
        lines += rng.sample(lines, min(3, len(lines)))
    elif op == "drop" and len(lines) > 1:
        del lines[rng.randrange(len(lines))]
    elif op == "swap":
        rng.shuffle(lines)
    else:
        lines = lines[1:] + lines[:1]
    return b"".join(lines)


def cesu(data: bytes, rng: random.Random) -> bytes:
    cut = rng.randrange(len(data) + 1)
    return data[:cut] + rng.choice([b"\xed\xa0\xbd\xed\xb8\x80", b"\xff\xfe\xfd", b"\xc0\x80", b"\xe4\xb8"]) + data[cut:]


MUTATIONS = [flip, truncate, reencode, line_ends, huge_field, deep_json, json_values, bad_time, controls,
             quotes, shuffle_lines, cesu]


def read_one(channel: str, path: Path, settings) -> tuple[int, Counter[str]]:  # type: ignore[no-untyped-def]
    from minsheng.channels import read_file

    batch = read_file(channel, path, settings.mapping(channel), settings.district,
                      limits=settings.ingest.limits())
    batch.feedback_rows()  # the rows' hashes and weeks: what the loader and the text stage see
    return batch.records.num_rows, Counter(batch.rejected.column("reason").to_pylist())


@dataclass
class ChannelStats:
    """What one channel's reader did with its mutated files."""

    tried: int = 0
    refused: int = 0
    loaded: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    stalls: int = 0
    noisy: int = 0  # files whose read wrote anything to stderr
    slowest: float = 0.0


class StderrTrap:
    """Catches what a read writes to file descriptor 2 (Python's and C's stderr alike)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "stderr"
        self.sample = ""

    def __enter__(self) -> StderrTrap:
        sys.stderr.flush()
        self._saved = os.dup(2)
        self._file = open(self.path, "w+b")  # noqa: SIM115
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        self.sample = self._file.read(400).decode("utf-8", "replace")
        self._file.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="folder for the inputs that crashed")
    ap.add_argument("--file-seconds", type=int, default=20,
                    help="a file that takes longer is a stall (counted with the crashes)")
    args = ap.parse_args(argv)
    import signal

    def _stall(signum, frame):  # noqa: ANN001
        raise TimeoutError("stalled")

    signal.signal(signal.SIGALRM, _stall)

    from minsheng.channels import UnreadableInput
    from minsheng.settings import load_settings

    settings = load_settings()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="minsheng-fuzz-") as tmp:
        root = Path(tmp)
        corpus = [(ch, f, f.read_bytes()) for ch, f in seeds(root / "gen")]
        start = time.perf_counter()
        for ch, f, _ in corpus:
            read_one(ch, f, settings)
        baseline = len(corpus) / (time.perf_counter() - start)
        keep = args.keep or root / "crashes"
        stats: dict[str, ChannelStats] = {ch: ChannelStats() for ch in sorted({c for c, _, _ in corpus})}
        crashes: Counter[str] = Counter()
        first_trace: dict[str, str] = {}
        noise: dict[str, str] = {}
        work = root / "work"
        work.mkdir()
        deadline = time.monotonic() + args.seconds
        started = time.perf_counter()
        tried = 0
        while time.monotonic() < deadline:
            channel, original, data = rng.choice(corpus)
            names = []
            for _ in range(rng.choice([1, 1, 2, 3])):
                data, name = mutate(data, rng)
                names.append(name)
            path = work / original.name
            path.write_bytes(data)
            # the input being read, left behind if a hang outlasts even the alarm (C code)
            keep.mkdir(parents=True, exist_ok=True)
            (keep / "current-input").write_bytes(data)
            tried += 1
            st = stats[channel]
            st.tried += 1
            if tried % 200 == 0:
                print(f"  … {tried} files, {sum(crashes.values())} crashes", flush=True)
            t0 = time.perf_counter()
            signal.alarm(args.file_seconds)
            try:
                with StderrTrap(root) as trap:
                    try:
                        n, why = read_one(channel, path, settings)
                        st.loaded += n
                        st.quarantined.update(why)
                    except UnreadableInput:
                        st.refused += 1
            except Exception as exc:  # a crash or a stall: what the benchmark is for
                stalled = isinstance(exc, TimeoutError)
                if stalled:
                    st.stalls += 1
                else:
                    st.crashes += 1
                label = f"{'stall' if stalled else type(exc).__name__} ({channel}, {'+'.join(names)})"
                crashes[label] += 1
                first_trace.setdefault(label, traceback.format_exc(limit=-3))
                (keep / f"crash-{sum(crashes.values()):04d}-{original.name}").write_bytes(data)
            finally:
                signal.alarm(0)
            st.slowest = max(st.slowest, time.perf_counter() - t0)
            if trap.sample:
                st.noisy += 1
                noise.setdefault(f"{channel}, {'+'.join(names)}", trap.sample)
        elapsed = time.perf_counter() - started
    report(stats, crashes, first_trace, noise, tried, elapsed, baseline)
    if crashes and args.keep:
        print(f"crashing inputs kept in {keep}")


def report(stats: dict[str, ChannelStats], crashes: Counter[str], first_trace: dict[str, str],
           noise: dict[str, str], tried: int, elapsed: float, baseline: float) -> None:
    rate = tried / elapsed
    print(f"mutated files tried: {tried} in {elapsed:.0f} s ({rate:.1f} files/s; unmutated baseline "
          f"{baseline:.1f} files/s, ratio {rate / baseline:.2f})")
    print(f"{'channel':<9} {'tried':>6} {'refused':>7} {'loaded':>8} {'quarant.':>8} {'crashes':>7} "
          f"{'stalls':>6} {'stderr':>6} {'slowest s':>9}")
    total = ChannelStats()
    for ch, st in stats.items():
        print(f"{ch:<9} {st.tried:>6} {st.refused:>7} {st.loaded:>8} {sum(st.quarantined.values()):>8} "
              f"{st.crashes:>7} {st.stalls:>6} {st.noisy:>6} {st.slowest:>9.1f}")
        total.tried += st.tried
        total.refused += st.refused
        total.loaded += st.loaded
        total.quarantined.update(st.quarantined)
        total.crashes += st.crashes
        total.stalls += st.stalls
        total.noisy += st.noisy
        total.slowest = max(total.slowest, st.slowest)
    print(f"{'all':<9} {total.tried:>6} {total.refused:>7} {total.loaded:>8} {sum(total.quarantined.values()):>8} "
          f"{total.crashes:>7} {total.stalls:>6} {total.noisy:>6} {total.slowest:>9.1f}")
    print("rows quarantined, by reason and channel:")
    for reason, n in total.quarantined.most_common():
        per = ", ".join(f"{ch} {st.quarantined[reason]}" for ch, st in stats.items() if st.quarantined[reason])
        print(f"  {reason:<22} {n:>7}  ({per})")
    print(f"crashes and stalls: {sum(crashes.values())}")
    for label, n in crashes.most_common():
        print(f"  {n:>5}  {label}")
        print("        " + first_trace[label].strip().replace("\n", "\n        "))
    for label, sample in list(noise.items())[:5]:
        print(f"  stderr ({label}): {sample.strip()[:200]!r}")


if __name__ == "__main__":
    main()
