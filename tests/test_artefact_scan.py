"""The artefact scan (tests/artefact_scan.py) finds a number however a file stores it, and
nothing where there is nothing."""

from __future__ import annotations

import gzip
import zipfile
import zlib

import duckdb
import joblib
import pyarrow as pa
import pyarrow.parquet as pq

from tests.artefact_scan import scan

PHONE = "13907771234"


def test_the_scan_finds_a_number_in_every_form(tmp_path):
    (tmp_path / "plain.txt").write_text(f"电话{PHONE}", encoding="utf-8")
    (tmp_path / "utf16.csv").write_bytes(f"a\t{PHONE}".encode("utf-16-le"))
    (tmp_path / "gbk.csv").write_bytes(f"电话,{PHONE}".encode("gb18030"))
    (tmp_path / "log.gz").write_bytes(gzip.compress(PHONE.encode()))
    (tmp_path / "blob.z").write_bytes(zlib.compress(PHONE.encode()))
    with zipfile.ZipFile(tmp_path / "model.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tokenizer.json", '{"vocab": {"%s": 1}}' % PHONE)
    pq.write_table(pa.table({"tokens": [f"x {PHONE} y"] * 1000}), tmp_path / "part.parquet", compression="zstd")
    joblib.dump({"words_": {PHONE: 0}}, tmp_path / "classifier.joblib", compress=3)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute(f"create table t as select 'tel' || i || ' {PHONE}' as s from range(5000) r(i)")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "contacts.txt").write_text(PHONE, encoding="utf-8")
    found = {f.path.split("::")[0] for f in scan(tmp_path, [PHONE])}
    assert found == {"plain.txt", "utf16.csv", "gbk.csv", "log.gz", "blob.z", "model.zip", "part.parquet",
                     "classifier.joblib", "w.duckdb"}


def test_the_scan_finds_nothing_in_clean_files(tmp_path):
    pq.write_table(pa.table({"tokens": ["电梯 坏了"] * 100}), tmp_path / "part.parquet")
    joblib.dump({"words_": {"电梯": 0}}, tmp_path / "classifier.joblib", compress=3)
    assert scan(tmp_path, [PHONE, "13812345678"]) == []
    # and a word that is there is found in both
    assert {f.path.split("::")[0] for f in scan(tmp_path, ["电梯"])} == {"part.parquet", "classifier.joblib"}
