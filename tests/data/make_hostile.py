"""Write the hostile-input corpus in tests/data/hostile/ (deterministic; run to regenerate).

    python tests/data/make_hostile.py
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

OUT = Path(__file__).parent / "hostile"
HEADER = ["工单编号", "受理时间", "所属社区", "来电号码", "来电内容"]
ID_NUMBER = "11010519491231002X"  # the GB 11643 worked example: a valid check digit


def csv_bytes(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(HEADER)
    w.writerows(rows)
    return buf.getvalue()


GOOD = [
    ["H001", "2026-11-03 09:00:00", "响水社区", "13812345678", "我母亲八十多岁独居，想申请日间托老服务"],
    ["H002", "2026-11-03 09:05:00", "丹龙社区", "023-62781234", "小区停车位太少，晚上回来没地方停车"],
    ["H003", "2026-11-03 09:10:00", "C08", "13912345678", "想咨询一下医保卡丢了怎么补办"],
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hotline_gbk.csv").write_bytes(csv_bytes(GOOD).encode("gbk"))
    (OUT / "hotline_utf8_bom.csv").write_bytes(csv_bytes(GOOD).encode("utf-8-sig"))
    # Excel's "Unicode text": UTF-16 little-endian with a BOM, tab-separated
    (OUT / "hotline_excel_utf16.csv").write_bytes(csv_bytes(GOOD, "\t").encode("utf-16"))
    # cut in the middle of the last row and of a multi-byte character
    full = csv_bytes(GOOD).encode("utf-8")
    (OUT / "hotline_truncated.csv").write_bytes(full[: len(full) - 21])
    ragged = csv_bytes(GOOD).rstrip("\r\n") + "\r\nH004,2026-11-03 10:00:00,响水社区\r\nH005,2026-11-03 10:00:00,响水社区,1,too,many\r\n"
    (OUT / "hotline_ragged.csv").write_text(ragged, encoding="utf-8")
    garbled = "我家楼上每天晚上很吵，希望社区管一管".encode("utf-8").decode("gbk", errors="replace")
    latin = "希望增加老年食堂的供餐时间".encode("utf-8").decode("latin-1")
    (OUT / "hotline_mojibake.csv").write_text(csv_bytes(GOOD + [
        ["H010", "2026-11-03 11:00:00", "响水社区", "13812345678", garbled],
        ["H011", "2026-11-03 11:01:00", "响水社区", "13812345678", latin],
    ]), encoding="utf-8")
    hostile = [
        ["H020", "2026/11/3 14:05", "响水社区", "13812345678", "楼道灯坏了👍😡 麻烦尽快修"],
        ["H021", "2026年11月3日 14时05分", "花园路社区", "", "社區長者飯堂太少，希望增設日間照顧中心"],
        ["H022", "2026-11-03T14:05:00+08:00", "通江社区", "13812345678", "'); drop table raw_hotline; --"],
        ["H023", "46329.5859722", "通江社区", "13812345678", "Robert'); DELETE FROM feedback WHERE ('1'='1"],
        ["H024", "2026-02-30 10:00:00", "通江社区", "13812345678", "二月三十日不存在"],
        ["H025", "2031-01-01 10:00:00", "通江社区", "13812345678", "来自未来的工单"],
        ["H026", "", "通江社区", "13812345678", "没有受理时间"],
        ["H027", "2026-11-03 15:00:00", "通江社区", "13812345678", "   "],
        ["", "2026-11-03 15:00:00", "通江社区", "13812345678", "没有工单编号"],
        ["H029", "2026-11-03 15:00:00", "火星社区", "13812345678", "社区不存在"],
        ["H030", "2026-11-03 15:00:00", "通江社区", "13812345678", f"身份证{ID_NUMBER}，住南坪西路12号3单元502，想办低保"],
        ["H031", "2026-11-03 15:00:00", "通江社区", "13812345678", "多行\n文本\n也是一条工单，逗号,和\"引号\"都在"],
    ]
    (OUT / "hotline_hostile.csv").write_text(csv_bytes(hostile), encoding="utf-8")
    (OUT / "hotline_day1.csv").write_text(csv_bytes(GOOD), encoding="utf-8")
    corrected = [list(r) for r in GOOD]
    corrected[1][4] = "小区停车位太少，晚上回来没地方停车，已经三个月了"
    (OUT / "hotline_day1_corrected.csv").write_text(csv_bytes(corrected + [GOOD[0]]), encoding="utf-8")
    # renamed columns, as another district's system exports them
    renamed = "单号,时间,社区名称,电话,内容\r\n" + "\r\n".join(",".join(r) for r in GOOD) + "\r\n"
    (OUT / "hotline_renamed.csv").write_text(renamed, encoding="utf-8")

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["H040", datetime(2026, 11, 3, 9, 30), "响水社区", 13812345678, "想报名社区文体活动"])
    sheet.append(["H041", 46329.5859722, "丹龙社区", "023-62781234", "希望开放电子阅览室的时间长一点"])
    sheet.append(["H042", "not a time", "丹龙社区", "023-62781234", "时间坏了"])
    book.save(OUT / "hotline.xlsx")

    messages = [
        {"msg_id": "P1", "posted_at": "2026-11-03T08:00:00+08:00", "community": "C08", "user": "u1",
         "title": "停车难", "content": "小区停车位太少了"},
        {"msg_id": "P2", "posted_at": "2026-11-03T00:00:00Z", "community": "C08", "user": "u2",
         "title": "", "content": "联系邮箱 zhang.san@example.com，电话13812345678"},
        {"msg_id": "P3", "posted_at": "2026-11-03T08:00:00+08:00", "community": "C08", "user": "u3",
         "title": "", "content": ""},
    ]
    (OUT / "platform_array.json").write_text(json.dumps(messages, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [json.dumps(messages[0], ensure_ascii=False), '{"msg_id": "P9", "posted_at": ', "[1, 2]", ""]
    (OUT / "platform_broken.jsonl").write_text("\n".join(lines), encoding="utf-8")

    import docx

    doc = docx.Document()
    doc.add_heading("响水社区物业服务互助会会议纪要", level=1)
    for line in ("日期：2026-11-04", "社区：响水社区", "互助会：物业服务互助会"):
        doc.add_paragraph(line)
    doc.add_heading("居民诉求", level=2)
    for item in ("3栋电梯经常坏，希望物业尽快维修", "楼道堆放杂物，存在消防隐患", "希望增加老年人日间照料的名额"):
        doc.add_paragraph(item, style="List Number")
    doc.add_heading("下一步", level=2)
    doc.add_paragraph("下周再开会")
    doc.core_properties.created = datetime(2026, 11, 4)  # a fixed date keeps the file stable
    doc.save(OUT / "meeting.docx")
    (OUT / "meeting.txt").write_text(
        "丹龙社区低保帮扶互助会会议记录\n日期：2026-11-05\n社区：丹龙社区\n互助会：低保帮扶互助会\n\n"
        "居民诉求：\n\n1. 低保复核材料太多，老人看不懂\n2. 希望社区上门帮忙填表\n\n备注：无\n",
        encoding="gb18030",
    )


if __name__ == "__main__":
    main()
