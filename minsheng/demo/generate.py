"""Deterministic generator of a realistic demo district.

:func:`generate_district` writes the raw inputs of the four channels (hotline work orders,
platform messages, mutual-aid meeting notes, the satisfaction-survey export), the supply
registry and a ``truth/`` folder (labels, planted spike, every piece of personal data) that
only tests read. :func:`labelled_corpus` yields labelled texts for training the classifier.

Everything is drawn from ``random.Random`` streams seeded by strings derived from the seed, so
a seed gives byte-identical files, and one channel's draws never shift another's.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import yaml

from minsheng.demo import vocab as V
from minsheng.domain import Community, District, SurveyItem, Taxonomy, week_range, week_start

__all__ = ["GenerationManifest", "Spike", "generate_district", "labelled_corpus"]


@dataclass(frozen=True)
class Spike:
    """The one planted anomaly: ``category`` demand in ``community`` during ``week`` is
    ``factor`` times its normal expectation."""

    week: str
    community: str
    category: str
    factor: float


@dataclass
class GenerationManifest:
    """What :func:`generate_district` wrote."""

    out: Path
    seed: int
    weeks: list[str]
    spike: Spike
    # hotline, platform, meeting_files, meeting_items, survey_returned, survey_valid
    counts: dict[str, int]

    def to_json(self) -> str:
        return json.dumps(self._as_dict(), ensure_ascii=False, indent=2)

    def _as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "seed": self.seed, "weeks": list(self.weeks),
                "spike": asdict(self.spike), "counts": dict(self.counts)}


# --------------------------------------------------------------------------------------------
# Volumes and mixes
# --------------------------------------------------------------------------------------------

WEEKLY_HOTLINE = 600
WEEKLY_PLATFORM = 300
MEETINGS_PER_WEEK = (12, 20)
ITEMS_PER_MEETING = (3, 6)
OTHER_SHARE = 0.025  # off-topic calls and posts (praise, weather, chit-chat)

SPIKE_COMMUNITY = "C03"
SPIKE_CATEGORY = "elderly_care"
SPIKE_FACTOR = 3.0
HOT_ISSUES = 6  # concrete problems planted at named places (minsheng.demo.hot_issues)

# Category weight = base * (1 + nzf * nongzhuanfei) * (elderly / 0.18) ** e
#                   * (floating / 0.5) ** f. Converts and the old drive the basic services and
# elderly care; floating residents drive daily life, parking, traffic and migrant help.
_PROFILE: dict[str, tuple[float, float, float, float]] = {
    "employment": (4.0, 0.4, 0.0, 0.5),
    "social_insurance": (5.0, 0.3, 0.5, 0.2),
    "subsistence": (3.0, 1.2, 0.5, -0.3),
    "veterans": (1.5, 0.5, 1.0, 0.0),
    "social_assistance": (3.0, 1.0, 0.5, 0.0),
    "medical_insurance": (5.0, 0.6, 1.0, 0.0),
    "culture": (4.0, 0.0, 0.5, 0.0),
    "daily_life": (7.0, 0.0, 0.0, 1.0),
    "elderly_care": (6.0, 1.0, 1.5, -0.3),
    "property": (13.0, 0.3, 0.0, 0.0),
    "disability": (1.5, 0.3, 0.5, 0.0),
    "migrant_workers": (2.5, 0.0, 0.0, 1.8),
    "emergency": (1.5, 0.0, 0.0, 0.0),
    "environment": (3.5, 0.0, 0.0, 0.0),
    "parking": (6.0, 0.0, 0.0, 1.2),
    "public_security": (4.0, 0.0, 0.0, 0.6),
    "traffic": (4.0, 0.0, 0.0, 1.0),
    "sanitation": (6.0, 0.2, 0.0, 0.3),
}
_DEFAULT_PROFILE = (2.0, 0.0, 0.0, 0.0)

# Online posters are younger than callers.
_CHANNEL_TILT: dict[str, dict[str, float]] = {
    "hotline": {"elderly_care": 1.15, "subsistence": 1.1, "veterans": 1.1},
    "platform": {"elderly_care": 0.6, "subsistence": 0.6, "veterans": 0.5, "parking": 1.4,
                 "traffic": 1.4, "daily_life": 1.3, "culture": 1.3, "property": 1.1},
}

_DOW = (1.25, 1.2, 1.05, 1.0, 0.95, 0.7, 0.55)  # Mon..Sun
_HOTLINE_HOURS = {8: 0.6, 9: 1.0, 10: 1.1, 11: 1.0, 12: 0.6, 13: 0.5, 14: 0.9, 15: 1.0,
                  16: 0.95, 17: 0.8, 18: 0.6, 19: 0.4}
_PLATFORM_HOURS = {7: 0.3, 8: 0.6, 9: 0.9, 10: 1.0, 11: 0.9, 12: 0.8, 13: 0.6, 14: 0.7,
                   15: 0.8, 16: 0.8, 17: 0.7, 18: 0.7, 19: 0.9, 20: 1.1, 21: 1.2, 22: 0.9,
                   23: 0.4}
_SURVEY_HOURS = {h: (0.5 if h < 10 else 1.0 if h < 19 else 1.3) for h in range(8, 23)}

# Style -> probability that a text carries a phone / ID number, and an address.
_PII_RATE = {"hotline": 0.12, "platform": 0.11, "meeting": 0.03, "survey": 0.05}
_ADDRESS_RATE = {"hotline": 0.035, "platform": 0.035, "meeting": 0.01, "survey": 0.02}
_SHORT_RATE = 0.02
_CONFUSER_RATE = 0.15
_CONTEXT_RATE = 0.3
_MIXED_RATE = 0.06
_VAGUE_RATE = 0.03
_DIALECT_RATE = {"hotline": 0.2, "platform": 0.08, "meeting": 0.12, "survey": 0.05}
_MAX_LEN = {"hotline": 80, "platform": 80, "meeting": 40, "survey": 70}


def _community_mix(c: Community, taxonomy: Taxonomy, channel: str | None) -> dict[str, float]:
    """Expected share of each category (and ``other``) in one community's demand."""
    tilt = _CHANNEL_TILT.get(channel or "", {})
    raw: dict[str, float] = {}
    for cat in taxonomy.categories:
        base, nzf, e, f = _PROFILE.get(cat.code, _DEFAULT_PROFILE)
        raw[cat.code] = (base * (1 + nzf * c.nongzhuanfei) * (max(c.elderly, 0.01) / 0.18) ** e
                         * (max(c.floating, 0.01) / 0.5) ** f * tilt.get(cat.code, 1.0))
    total = sum(raw.values())
    mix = {k: (1 - OTHER_SHARE) * v / total for k, v in raw.items()}
    mix[taxonomy.other_code] = OTHER_SHARE
    return mix


def _population_shares(district: District) -> dict[str, float]:
    # Actual residents outnumber registered ones where the floating population is large.
    raw = {c.code: c.registered * (1 + c.floating) for c in district.communities}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def _week_factor(seed: int, index: int, week: str) -> float:
    """Mild upward trend with a little week-to-week noise."""
    rng = Random(f"{seed}:weekfactor:{week}")
    return (1 + 0.015 * index) * (1 + rng.gauss(0, 0.03))


def _poisson(rng: Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def _weighted(rng: Random, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _moment(rng: Random, week: str, hours: dict[int, float]) -> datetime:
    day = week_start(week) + timedelta(days=rng.choices(range(7), weights=_DOW)[0])
    hour = _weighted(rng, hours)
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))


# --------------------------------------------------------------------------------------------
# Mutual-aid groups (shared by the meeting notes and the supply registry)
# --------------------------------------------------------------------------------------------

# group name -> (id suffix, whether a community has one, category it helps with, fit)
_GROUPS: dict[str, tuple[str, Callable[[Community], bool], str, str]] = {
    # Resettlement estates (农转非) and the densest rental blocks are where owners organise.
    "物业服务互助会": ("property", lambda c: c.nongzhuanfei >= 0.5 or c.floating >= 0.6,
                      "property", "primary"),
    "垃圾处理互助会": ("garbage", lambda c: c.floating >= 0.5, "environment", "secondary"),
    "楼栋互助会": ("building", lambda c: True, "elderly_care", "secondary"),
    "文化兴趣互助会": ("culture", lambda c: c.elderly >= 0.17, "culture", "secondary"),
    "低保帮扶互助会": ("subsistence", lambda c: c.nongzhuanfei >= 0.5, "subsistence", "secondary"),
}


def _community_groups(c: Community) -> list[str]:
    return [name for name, (_, has, _, _) in _GROUPS.items() if has(c)]


def _meeting_mix(c: Community, group: str, taxonomy: Taxonomy) -> dict[str, float]:
    """Item categories of one meeting: half the group's topic, half the community's needs."""
    codes = set(taxonomy.codes)
    topic = {k: v for k, v in V.MEETING_GROUPS.get(group, {}).items() if k in codes}
    local = {k: v for k, v in _community_mix(c, taxonomy, None).items() if k in codes}
    t_sum, l_sum = sum(topic.values()) or 1.0, sum(local.values())
    return {k: 0.5 * topic.get(k, 0.0) / t_sum + 0.5 * local[k] / l_sum for k in local}


# --------------------------------------------------------------------------------------------
# Personal data
# --------------------------------------------------------------------------------------------

_MOBILE_PREFIXES = ([f"13{i}" for i in range(10)] + ["150", "151", "152", "153", "155", "156",
                    "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182",
                    "183", "184", "185", "186", "187", "188", "189", "191", "193", "195", "198",
                    "199"])
# Chongqing district codes; 500108 (南岸区) is Nanping's own.
_REGION_CODES = ("500108", "500108", "500108", "500103", "500105", "500106", "500107",
                 "500112", "500113", "500222", "500228", "510215")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_check(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def _mobile(rng: Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _landline(rng: Random) -> str:
    return f"023-6{rng.randrange(10**7):07d}"


def _id_number(rng: Random, elderly: bool = False) -> str:
    first, years = (1930, 31) if elderly else (1938, 66)
    born = date(first, 1, 1) + timedelta(days=rng.randrange(365 * years))
    body = f"{rng.choice(_REGION_CODES)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + _id_check(body)


def _address(rng: Random) -> str:
    return (f"{rng.choice(V.ROADS)}{rng.randint(1, 188)}号{rng.randint(1, 6)}单元"
            f"{rng.randint(1, 32)}{rng.randint(1, 8):02d}")


# --------------------------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------------------------

@dataclass
class _Text:
    text: str
    category: str
    need: str
    pii: list[str] = field(default_factory=list)
    address: str | None = None


_SLOT = re.compile(r"\{([^{}]*)\}")
_MONTHS = ["两个月", "三个月", "半年", "大半年", "一年多", "好几个月", "三四个月"]
_DYNAMIC: dict[str, Callable[[Random], str]] = {
    "bld": lambda r: f"{r.randint(1, 32)}{r.choice(['栋', '栋', '号楼'])}",
    "num": lambda r: r.choice("两三四五六七八"),
    "age": lambda r: str(r.randint(35, 58)),
    "old_age": lambda r: str(r.randint(62, 95)),
    "months": lambda r: r.choice(_MONTHS),
}


class _Phrasebook:
    """Fills templates of :mod:`minsheng._vocab` for the categories of one taxonomy."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.other = taxonomy.other_code
        self.names = taxonomy.names()
        self.needs = {c.code: list(c.needs) or [c.name] for c in taxonomy.categories}

    def _vocab(self, category: str) -> dict[str, Any]:
        if category == self.other:
            return V.OTHER
        # A category added to the taxonomy without phrase material still gets plain texts.
        return V.CATEGORIES.get(category, {})

    def fill(self, rng: Random, template: str, category: str, need: str) -> str:
        vocab = self._vocab(category)
        need_vocab = vocab.get("needs", {}).get(need, {})
        syns = need_vocab.get("syn") or [need]

        def slot(m: re.Match[str]) -> str:
            name = m.group(1)
            if "|" in name:
                return rng.choice(name.split("|"))
            if name == "need":
                return rng.choice(syns)
            if name == "other":
                return self._other_need(rng, category)
            if name in _DYNAMIC:
                return _DYNAMIC[name](rng)
            own, cat, shared = need_vocab.get(name), vocab.get(name), V.SHARED.get(name)
            if own and cat and isinstance(cat, list):
                return rng.choice(own if rng.random() < 0.7 else cat)
            for pool in (own, cat, shared):
                if pool and isinstance(pool, list):
                    return rng.choice(pool)
            if name == "problem":  # category without phrase material
                return f"{need}的问题一直没解决"
            raise KeyError(f"template slot {{{name}}} has no vocabulary ({category})")

        text = template
        for _ in range(10):
            new = _SLOT.sub(slot, text)
            if new == text:
                break
            text = new
        return text

    def _siblings(self, category: str) -> list[str]:
        return [c for members, _ in V.FAMILIES if category in members for c in members
                if c != category and c in self.needs]

    def _sibling_problem(self, rng: Random, category: str) -> str:
        """A problem clause of a related category, filled in that category's own terms."""
        code = rng.choice(self._siblings(category) or [c for c in self.needs if c != category])
        need = rng.choice(self.needs[code])
        vocab = self._vocab(code)
        pool = (vocab.get("needs", {}).get(need, {}).get("problem") or vocab.get("problem")
                or ["{need}的问题一直没解决"])
        return self.fill(rng, rng.choice(pool), code, need).rstrip("。")

    def _contexts(self, category: str) -> list[str]:
        return [clause for members, clauses in V.FAMILIES if category in members
                for clause in clauses] or V.FAMILIES[0][1]

    def _other_need(self, rng: Random, category: str) -> str:
        """A need of another category, mostly a sibling (same family) so the mention is close."""
        siblings = self._siblings(category)
        others = [c for c in self.needs if c != category]
        code = rng.choice(siblings if siblings and rng.random() < 0.7 else others)
        need = rng.choice(self.needs[code])
        syns = V.CATEGORIES.get(code, {}).get("needs", {}).get(need, {}).get("syn") or [need]
        return rng.choice(syns)

    def templates(self, category: str) -> list[str]:
        own = list(self._vocab(category).get("templates", []))
        if category == self.other:
            return own
        return own or list(V.GENERIC_TEMPLATES)

    def body(self, rng: Random, category: str, need: str, style: str) -> str:
        """The demand sentence proper, kept within the style's length budget."""
        own = self.templates(category)
        best = ""
        for _ in range(6):
            use_generic = category != self.other and rng.random() < 0.28
            template = rng.choice(V.GENERIC_TEMPLATES if use_generic else own)
            text = self.fill(rng, template, category, need)
            if not best or len(text) < len(best):
                best = text
            if len(text) <= _MAX_LEN[style] - 8:
                return text
        return best

    def demand(self, rng: Random, category: str, style: str,
               phone: Callable[[Random], str] | None = None) -> _Text:
        """One resident text of ``category`` in a channel ``style`` (hotline, platform,
        meeting, survey). ``phone`` may supply the number a caller reads out."""
        vocab = self._vocab(category)
        need = rng.choice(self.needs.get(category, [self.names.get(category, category)]))
        if rng.random() < _SHORT_RATE and vocab.get("short"):
            return _Text(rng.choice(vocab["short"]), category, need)
        roll = rng.random() if category != self.other and style != "meeting" else 1.0
        if roll < _VAGUE_RATE:
            context = self.fill(rng, rng.choice(self._contexts(category)), category, need)
            body = self.fill(rng, rng.choice(V.VAGUE).replace("{context}", context), category, need)
        elif roll < _VAGUE_RATE + _MIXED_RATE:
            aside = self._sibling_problem(rng, category)
            body = self.fill(rng, rng.choice(V.MIXED).replace("{aside}", aside), category, need)
        else:
            body = self.body(rng, category, need, style)
        if (style == "meeting" and rng.random() < 0.35 and "？" not in body
                and not body.startswith(("请问", "想", "我", "关于"))):
            body = self.fill(rng, rng.choice(V.MEETING_REPORTERS), category, need) + body
        elif category != self.other and rng.random() < _CONTEXT_RATE:
            body = self.fill(rng, rng.choice(self._contexts(category)), category, need) + "，" + body
        if category != self.other and style != "meeting" and rng.random() < _CONFUSER_RATE:
            if rng.random() < 0.6:
                body = self.fill(rng, rng.choice(V.CONFUSER_PREFIXES), category, need) + body
            else:
                body = body + self.fill(rng, rng.choice(V.CONFUSER_SUFFIXES), category, need)
        if rng.random() < _DIALECT_RATE[style]:
            body = _dialect(rng, body)
        opener = closer = ""
        if style in ("hotline", "platform") and rng.random() < 0.55:
            opener = self.fill(rng, rng.choice(V.OPENERS[style]), category, need)
        if (style == "survey" and rng.random() < 0.3
                and not body.startswith((*V.SHARED["hope"], "建议"))):
            opener = rng.choice(V.OPENERS["survey"])
        if style in ("hotline", "platform") and rng.random() < 0.35:
            closer = rng.choice(V.CLOSERS[style])
        result = _Text("", category, need)
        lead = tail = ""
        if rng.random() < _ADDRESS_RATE[style]:
            result.address = _address(rng)
            lead = rng.choice(V.ADDRESS_PHRASES).format(addr=result.address)
        if rng.random() < _PII_RATE[style]:
            lead, tail = self._pii(rng, category, lead, tail, phone, result.pii)
        # Transcripts and notes often end without a full stop, but not before more text.
        if not body.endswith(("。", "？", "！")) and (closer or tail or rng.random() < 0.6):
            body += "。"
        result.text = f"{opener}{lead}{body}{tail}{closer}"
        return result

    def _pii(self, rng: Random, category: str, lead: str, tail: str,
             phone: Callable[[Random], str] | None, found: list[str]) -> tuple[str, str]:
        basic = category in self.needs and self._group(category) == "basic"
        roll = rng.random()
        if roll < (0.45 if basic else 0.2):
            template = rng.choice(V.PII_ID)
            value = _id_number(rng, elderly="老人" in template)
            phrase = template.format(id=value)
        else:
            if phone is not None and rng.random() < 0.3:
                value = phone(rng)
            else:
                value = _landline(rng) if rng.random() < 0.2 else _mobile(rng)
            phrase = rng.choice(V.PII_PHONE).format(phone=value)
        found.append(value)
        if rng.random() < 0.3:
            return lead + phrase + "，", tail
        return lead, tail + phrase + "。"

    def _group(self, category: str) -> str:
        return next(c.group for c in self.taxonomy.categories if c.code == category)

    def title(self, rng: Random, text: _Text) -> str:
        """A platform post title, 6-15 characters."""
        vocab = self._vocab(text.category)
        own = vocab.get("titles", [])
        for _ in range(8):
            use_own = own and (rng.random() < 0.35 or text.category == self.other)
            pool = own if use_own else V.GENERIC_TITLES
            title = self.fill(rng, rng.choice(pool), text.category, text.need)
            if 6 <= len(title) <= 15:
                return title
        return f"关于{self.names.get(text.category, text.category)}的问题"[:15]


def _dialect(rng: Random, text: str) -> str:
    """Chongqing flavour: swap a few Mandarin words, maybe add a sentence-final particle."""
    for mandarin, local in V.DIALECT:
        if mandarin in text and rng.random() < 0.7:
            text = text.replace(mandarin, local)
    if rng.random() < 0.4 and text and text[-1] in "。！":
        text = text[:-1] + rng.choice(V.DIALECT_TAILS) + text[-1]
    return text


# --------------------------------------------------------------------------------------------
# Channels
# --------------------------------------------------------------------------------------------

@dataclass
class _Truth:
    labels: list[tuple[str, str, str]] = field(default_factory=list)
    pii: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    texts: int = 0

    def record(self, channel: str, key: str, text: _Text) -> None:
        self.labels.append((channel, key, text.category))
        self.pii.update(text.pii)
        if text.address:
            self.addresses.add(text.address)
        self.texts += 1


def _cell_counts(rng: Random, district: District, taxonomy: Taxonomy, channel: str, total: float,
                 week: str, spike: Spike) -> list[tuple[str, str]]:
    """(community, category) of every record of one channel and week."""
    shares = _population_shares(district)
    out: list[tuple[str, str]] = []
    for c in district.communities:
        for cat, share in _community_mix(c, taxonomy, channel).items():
            lam = total * shares[c.code] * share
            n = _poisson(rng, lam)
            if (week, c.code, cat) == (spike.week, spike.community, spike.category):
                # The surplus is planted as a fixed amount on top of an ordinary week, so the
                # spike stands out instead of drowning in Poisson noise.
                n += round((spike.factor - 1) * lam)
            out.extend([(c.code, cat)] * n)
    return out


def _write_hotline(out: Path, week: str, factor: float, scale: float, seed: int,
                   district: District, taxonomy: Taxonomy, book: _Phrasebook, spike: Spike,
                   truth: _Truth) -> int:
    rng = Random(f"{seed}:hotline:{week}")
    cells = _cell_counts(rng, district, taxonomy, "hotline", WEEKLY_HOTLINE * scale * factor,
                         week, spike)
    names = {c.code: c.name for c in district.communities}
    callers: dict[str, list[str]] = {c.code: [] for c in district.communities}
    rows = []
    for code, cat in cells:
        at = _moment(rng, week, _HOTLINE_HOURS)
        pool = callers[code]
        if pool and rng.random() < 0.15:  # people who call again
            phone = rng.choice(pool)
        else:
            phone = _landline(rng) if rng.random() < 0.2 else _mobile(rng)
            pool.append(phone)
        text = book.demand(rng, cat, "hotline", phone=lambda _r, p=phone: p)
        rows.append((at, names[code], phone, text))
    rows.sort(key=lambda r: r[0])
    serial: dict[date, int] = {}
    path = out / "hotline" / f"work_orders_{week}.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["工单编号", "受理时间", "所属社区", "来电号码", "来电内容"])
        for at, name, phone, text in rows:
            # The hotline numbers orders for the whole city: our serials have gaps.
            day = at.date()
            serial[day] = serial.get(day, rng.randint(1, 300)) + rng.randint(1, 4)
            order_id = f"GD{day:%Y%m%d}{serial[day]:06d}"
            writer.writerow([order_id, f"{at:%Y-%m-%d %H:%M:%S}", name, phone, text.text])
            truth.record("hotline", order_id, text)
            truth.pii.add(phone)
    return len(rows)


def _write_platform(out: Path, week: str, factor: float, scale: float, seed: int,
                    district: District, taxonomy: Taxonomy, book: _Phrasebook, spike: Spike,
                    truth: _Truth) -> int:
    rng = Random(f"{seed}:platform:{week}")
    cells = _cell_counts(rng, district, taxonomy, "platform", WEEKLY_PLATFORM * scale * factor,
                         week, spike)
    users: dict[str, list[str]] = {c.code: [] for c in district.communities}
    rows = []
    for code, cat in cells:
        at = _moment(rng, week, _PLATFORM_HOURS)
        pool = users[code]
        if pool and rng.random() < 0.25:
            user = rng.choice(pool)
        else:
            user = f"居民_{rng.getrandbits(24):06x}"
            pool.append(user)
        text = book.demand(rng, cat, "platform")
        rows.append((at, code, user, book.title(rng, text), text))
    rows.sort(key=lambda r: r[0])
    year, wk = week.split("-")
    path = out / "platform" / f"messages_{week}.jsonl"
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for i, (at, code, user, title, text) in enumerate(rows, start=1):
            msg_id = f"YJD-{year}{wk}-{i:05d}"
            obj = {"msg_id": msg_id, "posted_at": f"{at:%Y-%m-%dT%H:%M:%S}+08:00",
                   "community": code, "user": user, "title": title, "content": text.text}
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
            truth.record("platform", msg_id, text)
    return len(rows)


def _write_meetings(out: Path, week: str, scale: float, seed: int, district: District,
                    taxonomy: Taxonomy, book: _Phrasebook, spike: Spike,
                    truth: _Truth) -> tuple[int, int]:
    rng = Random(f"{seed}:meetings:{week}")
    shares = _population_shares(district)
    by_code = {c.code: c for c in district.communities}
    n_files = max(1, round(rng.randint(*MEETINGS_PER_WEEK) * scale))
    meetings = []
    for _ in range(n_files):
        c = by_code[_weighted(rng, shares)]
        group = rng.choice(_community_groups(c))
        # Evenings on weekdays, mornings on Saturday; rarely on Sunday.
        day = week_start(week) + timedelta(
            days=rng.choices(range(7), weights=(1, 1.2, 1.2, 1.2, 1, 1.4, 0.3))[0])
        meetings.append((day, c, group))
    meetings.sort(key=lambda m: (m[0], m[1].code))
    seq: dict[tuple[date, str], int] = {}
    items_total = 0
    for day, c, group in meetings:
        seq[(day, c.code)] = seq.get((day, c.code), 0) + 1
        fname = f"{day:%Y-%m-%d}_{c.code}_{seq[(day, c.code)]:02d}.md"
        mix = _meeting_mix(c, group, taxonomy)
        if (week, c.code) == (spike.week, spike.community) and spike.category in mix:
            mix[spike.category] *= spike.factor
        items = [book.demand(rng, _weighted(rng, mix), "meeting")
                 for _ in range(rng.randint(*ITEMS_PER_MEETING))]
        lines = [f"# {c.name}{group}会议纪要", "", f"日期：{day:%Y-%m-%d}", f"社区：{c.name}",
                 f"互助会：{group}", f"参会人数：{rng.randint(8, 30)}", "", "## 居民诉求", ""]
        for i, item in enumerate(items, start=1):
            lines.append(f"{i}. {item.text}")
            truth.record("meeting", f"{fname}#{i}", item)
        lines += ["", "## 下一步", ""]
        lines += [f"- {line}" for line in rng.sample(V.MEETING_NEXT, rng.randint(1, 2))]
        (out / "meetings" / fname).write_text("\n".join(lines) + "\n", encoding="utf-8")
        items_total += len(items)
    return len(meetings), items_total


# --------------------------------------------------------------------------------------------
# Survey
# --------------------------------------------------------------------------------------------

_RESPONDENT_TYPES = {"户籍居民": 0.70, "流动人口": 0.20, "社区工作人员": 0.05, "社会组织人员": 0.05}
_SOURCES = {"入户": 0.45, "微信": 0.35, "链接": 0.20}
_NO_SUGGESTION = ["", "", "", "", "无", "没有", "暂无", "无意见"]
ITEM_OFFSET = 3  # question numbers 1 and 2 are identity and community


def _survey_question(n: int, item: SurveyItem) -> str:
    if item.scale == "approve" and item.group == "overall":
        return f"{n}、您是否认同街道公共服务“{item.name}”做得好"
    if item.scale == "approve":
        return f"{n}、您是否赞成“{item.name}”"
    return f"{n}、您对{item.name}是否满意"


def _rounds_to(count: int, answered: int, target: float) -> bool:
    """count/answered rounds to target at 0.1 % (ties excluded, so float rounding can't flip)."""
    t = round(target * 1000)
    return 2 * abs(1000 * count - t * answered) < answered


def _solve_item(rng: Random, item: SurveyItem, valid: int) -> tuple[int, int, int]:
    """(answered, positive, neutral) over the valid rows that reproduce the item's shares."""
    low, high = (2, 10) if item.group == "overall" else (6, 22)  # provider items: "不了解"
    for blanks in range(rng.randint(low, high), valid):
        answered = valid - blanks
        pos = round(item.positive * answered)
        if not _rounds_to(pos, answered, item.positive):
            continue
        if item.neutral is not None:
            neu = round(item.neutral * answered)
            if not _rounds_to(neu, answered, item.neutral) or pos + neu > answered:
                continue
        else:
            neu = round((answered - pos) * rng.uniform(0.55, 0.75))
        return answered, pos, neu
    raise ValueError(f"survey item {item.code}: no answer counts reproduce {item.positive}")


def _quota(rng: Random, n: int, weights: dict[str, float]) -> list[str]:
    """Exactly n labels in proportion to weights (largest remainder), shuffled."""
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: counts[k] - exact[k])[: n - sum(counts.values())]:
        counts[k] += 1
    out = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(out)
    return out


def _write_survey(out: Path, weeks: list[str], seed: int, district: District,
                  taxonomy: Taxonomy, book: _Phrasebook, truth: _Truth) -> tuple[int, int]:
    rng = Random(f"{seed}:survey")
    design = district.survey
    items = design.items
    n_items, max_blank = len(items), design.max_blank_items
    n_valid, n_invalid = design.valid, design.returned - design.valid
    names = {c.code: c.name for c in district.communities}

    # Valid rows: blanks first (at most max_blank per row), then answers by a latent mood so
    # that one respondent's answers hang together.
    answers: list[list[str]] = [[""] * n_items for _ in range(n_valid)]
    blanks = [0] * n_valid
    mood = [rng.gauss(0, 1) for _ in range(n_valid)]
    for j, item in enumerate(items):
        answered, pos, neu = _solve_item(rng, item, n_valid)
        free = [r for r in range(n_valid) if blanks[r] < max_blank]
        skipped = set(rng.sample(free, n_valid - answered))
        for r in skipped:
            blanks[r] += 1
        rows = sorted((r for r in range(n_valid) if r not in skipped),
                      key=lambda r: mood[r] + rng.gauss(0, 1.0), reverse=True)
        options = item.options
        for rank, r in enumerate(rows):
            answers[r][j] = options[0 if rank < pos else 1 if rank < pos + neu else 2]

    records: list[dict[str, Any]] = []
    types = _quota(rng, n_valid, _RESPONDENT_TYPES)
    reg = {c.code: float(c.registered) for c in district.communities}
    comms = _quota(rng, design.returned, reg)
    for r in range(n_valid):
        records.append({"type": types[r], "community": names[comms[r]], "answers": answers[r]})

    # Invalid rows: a realistic mix of the three reasons (and a few with two).
    n_comm = min(n_invalid, rng.randint(8, 12))
    n_type = min(n_invalid - n_comm, rng.randint(6, 10))
    n_both = min(n_invalid - n_comm - n_type, rng.randint(2, 5))
    reasons = (["community"] * n_comm + ["type"] * n_type + ["community+blanks"] * n_both
               + ["blanks"] * (n_invalid - n_comm - n_type - n_both))
    for k, reason in enumerate(reasons):
        many = "blanks" in reason
        n_blank = (n_items if rng.random() < 0.3 else rng.randint(max_blank + 1, n_items)) \
            if many else rng.randint(0, max_blank)
        skipped = set(rng.sample(range(n_items), n_blank))
        row = [("" if j in skipped else rng.choices(it.options, weights=(
            it.positive, it.neutral or (1 - it.positive) * 0.6, (1 - it.positive) * 0.4))[0])
            for j, it in enumerate(items)]
        records.append({
            "type": "" if reason == "type" else rng.choice(list(_RESPONDENT_TYPES)),
            "community": "" if "community" in reason else names[comms[n_valid + k]],
            "answers": row, "abandoned": many,
        })
    rng.shuffle(records)

    # Submission times over the first two weeks; exports number rows in submission order.
    span = weeks[:2]
    times = sorted(_moment(rng, rng.choice(span), _SURVEY_HOURS) for _ in records)
    mix = _district_mix(district, taxonomy)
    header = (["序号", "提交答卷时间", "所用时间", "来源", "1、您的身份", "2、您所在的社区"]
              + [_survey_question(ITEM_OFFSET + j, it) for j, it in enumerate(items)]
              + [f"{ITEM_OFFSET + n_items}、您对街道公共服务还有什么意见和建议？"])
    path = out / "survey" / "survey_export.csv"
    with path.open("w", encoding="gb18030", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for seq, (rec, at) in enumerate(zip(records, times), start=1):
            abandoned = rec.get("abandoned", False)
            seconds = (rng.randint(25, 90) if abandoned
                       else int(min(900, 60 + rng.lognormvariate(4.4, 0.5))))
            if not abandoned and rng.random() < 0.4:
                text = book.demand(rng, _weighted(rng, mix), "survey")
                open_answer = text.text
                truth.record("survey", str(seq), text)
            else:
                open_answer = rng.choice(_NO_SUGGESTION)
            writer.writerow([seq, f"{at:%Y/%m/%d %H:%M:%S}", f"{seconds}秒",
                             _weighted(rng, _SOURCES),
                             rec["type"], rec["community"], *rec["answers"], open_answer])
    return design.returned, n_valid


def _district_mix(district: District, taxonomy: Taxonomy) -> dict[str, float]:
    shares = _population_shares(district)
    mix: dict[str, float] = {}
    for c in district.communities:
        for k, v in _community_mix(c, taxonomy, None).items():
            mix[k] = mix.get(k, 0.0) + shares[c.code] * v
    return mix


# --------------------------------------------------------------------------------------------
# Supply registry
# --------------------------------------------------------------------------------------------

def _expected_demand(district: District, taxonomy: Taxonomy, scale: float,
                     mean_factor: float) -> dict[str, dict[str, float]]:
    """Expected weekly demand items per community and category over all channels, without
    the spike: what a planner would size services on."""
    shares = _population_shares(district)
    codes = set(taxonomy.codes)
    demand: dict[str, dict[str, float]] = {c.code: dict.fromkeys(taxonomy.codes, 0.0)
                                           for c in district.communities}
    items = (sum(MEETINGS_PER_WEEK) / 2) * scale * (sum(ITEMS_PER_MEETING) / 2)
    for c in district.communities:
        row = demand[c.code]
        for channel, total in (("hotline", WEEKLY_HOTLINE), ("platform", WEEKLY_PLATFORM)):
            for k, v in _community_mix(c, taxonomy, channel).items():
                if k in codes:
                    row[k] += total * scale * mean_factor * shares[c.code] * v
        groups = _community_groups(c)
        for g in groups:
            for k, v in _meeting_mix(c, g, taxonomy).items():
                row[k] += items * shares[c.code] / len(groups) * v
    return demand


def _area_demand(demand: dict[str, dict[str, float]], category: str,
                 area: Sequence[str] | None = None) -> float:
    return sum(demand[c].get(category, 0.0) for c in (area or demand))


_LIFE_SERVICES = [("childcare", "学龄前儿童托管", "人次", 0.25), ("youth", "青少年培训", "人次", 0.15),
                  ("counselling", "心理咨询", "人次", 0.12), ("repair", "家电维修派单", "单", 0.3),
                  ("laundry_post", "衣物洗涤与快递收发派单", "单", 0.18)]
_ELDERLY_SERVICES = [("daycare", "日间托老", "人次", 0.4, {"min_age": 60}),
                     ("residential", "全天托老", "床位", 0.2, {"min_age": 60}),
                     ("home_visits", "居家养老上门服务", "户次", 0.4, {"min_age": 60})]
_CULTURE_SERVICES = [("library", "图书室与电子阅览室", "人次", 0.3),
                     ("activity", "文体活动室", "人次", 0.35),
                     ("rehearsal", "排练厅与多功能厅", "场次", 0.2),
                     ("exhibition", "展览厅", "场次", 0.15)]
# Where each base's places are (ours, made up for the demo): residents of other communities
# travel there. Home visits and dispatch to partner shops have no site.
_BASE_SITES = {"culture_base": "C06", "life_base": "C09", "elderly_base": "C04"}
_SITE_SERVICES = {"culture_base": {"library", "activity", "rehearsal", "exhibition"},
                  "life_base": {"childcare", "youth", "counselling"},
                  "elderly_base": {"daycare", "residential"}}
# (name, kind of NGO, primary categories, secondary categories)
_NGOS = [
    ("南坪手语之家", "聋哑人群扶助", ["disability"], []),
    ("阳光助残服务社", "聋哑人群扶助", ["disability"], ["elderly_care"]),
    ("南坪残健融合康复站", "聋哑人群扶助", ["disability"], []),
    ("山城应急救援队", "应急救援", ["emergency"], []),
    ("江南蓝天救援志愿队", "应急救援", ["emergency"], []),
    ("平安楼栋志愿者协会", "应急救援", ["emergency"], ["elderly_care"]),
    ("新市民农民工服务中心", "农民工帮扶", ["migrant_workers"], ["daily_life"]),
    ("同心务工者之家", "农民工帮扶", ["migrant_workers"], []),
    ("绿色南坪环保协会", "环境保护", ["environment"], []),
    ("两江小卫士环保志愿队", "环境保护", ["environment"], []),
    ("垃圾分类宣传志愿队", "环境保护", ["environment"], []),
    ("邻里守望社区服务社", "社区服务", [], ["daily_life", "elderly_care"]),
    ("夕阳红为老服务社", "社区服务", [], ["elderly_care"]),
    ("彩虹青少年成长服务中心", "社区服务", [], ["daily_life"]),
    ("心语心理健康服务社", "社区服务", [], ["daily_life"]),
    ("暖心居家照护志愿队", "社区服务", [], ["elderly_care"]),
]
# Capacity as a share of the demand a service faces: the gaps the demo should show.
_NGO_RATIO = {"disability": 1.3, "migrant_workers": 0.55, "emergency": 1.6, "environment": 0.8}
_NGO_SECONDARY_RATIO = {"elderly_care": 0.1, "daily_life": 0.12}
_GROUP_RATIO = {"property": 0.35, "environment": 0.3, "subsistence": 0.2, "elderly_care": 0.03,
                "culture": 0.1}


def _build_supply(seed: int, district: District, taxonomy: Taxonomy, scale: float,
                  mean_factor: float) -> dict[str, Any]:
    rng = Random(f"{seed}:supply")
    demand = _expected_demand(district, taxonomy, scale, mean_factor)
    codes = set(taxonomy.codes)
    all_codes = district.community_codes

    def cap(x: float) -> int:
        return max(1, round(x)) if x > 0 else 0

    def service(sid: str, name: str, categories: dict[str, str], area: Any, unit: str,
                capacity: int, eligibility: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"id": sid, "name": name, "categories": categories, "area": area, "unit": unit,
                "capacity": capacity, "eligibility": eligibility or {}}

    providers: list[dict[str, Any]] = []
    centre = []
    for cat in taxonomy.categories:
        if cat.group != "basic" or not cat.served:
            continue
        elig = {"resident_types": ["户籍居民"]} if cat.code == "subsistence" else {}
        centre.append(service(f"centre.{cat.code}", f"{cat.name}窗口", {cat.code: "primary"},
                              "all", "件",
                              cap(_area_demand(demand, cat.code) * rng.uniform(0.9, 1.3)),
                              elig))
    providers.append({"id": "centre", "name": "南坪街道公共服务中心", "kind": "centre",
                      "services": centre})

    def base(pid: str, name: str, category: str, ratio: float, lines: list[tuple]) -> None:
        if category not in codes:
            return
        total = _area_demand(demand, category) * ratio
        services = [service(f"{pid}.{sid}", sname, {category: "primary"}, "all", unit,
                            cap(total * share * rng.uniform(0.85, 1.15)), *rest)
                    for sid, sname, unit, share, *rest in lines]
        for svc, (sid, *_) in zip(services, lines, strict=True):
            if sid in _SITE_SERVICES[pid]:
                svc["location"] = _BASE_SITES[pid]
        providers.append({"id": pid, "name": name, "kind": "base", "services": services})

    base("culture_base", "文化服务基地", "culture", rng.uniform(1.0, 1.2), _CULTURE_SERVICES)
    base("life_base", "生活服务便民基地", "daily_life", rng.uniform(0.8, 0.9), _LIFE_SERVICES)
    base("elderly_base", "养老托老服务基地", "elderly_care", 0.5, _ELDERLY_SERVICES)

    # Areas first, then capacity: each NGO takes its share of the demand in every community
    # it covers, split with the other NGOs of the same category covering that community.
    ngos = []
    for i, (name, kind, prim, sec) in enumerate(_NGOS, start=1):
        prim = [k for k in prim if k in codes]
        sec = [k for k in sec if k in codes]
        area = sorted(rng.sample(all_codes, rng.randint(3, min(7, len(all_codes)))))
        if prim or sec:
            ngos.append((f"ngo.{i:02d}", name, kind, prim, sec, area))
    cover: dict[tuple[str, str], int] = {}
    for *_, prim, sec, area in ngos:
        for k in prim + sec:
            for c in area:
                cover[(k, c)] = cover.get((k, c), 0) + 1
    for pid, name, kind, prim, sec, area in ngos:
        # Primary work and help on the side are separate lines, so that capacity meant for
        # a secondary fit is not counted against the NGO's own cases.
        services = []
        side = "、".join(taxonomy.names()[k] for k in sec)
        for fit, cats, suffix, label in (("primary", prim, "cases", kind),
                                         ("secondary", sec, "volunteer", f"志愿服务（{side}）")):
            if not cats:
                continue
            ratios = _NGO_RATIO if fit == "primary" else _NGO_SECONDARY_RATIO
            capacity = sum(ratios.get(k, 0.1) * demand[c][k] / cover[(k, c)]
                           for k in cats for c in area)
            services.append(service(f"{pid}.{suffix}", label, dict.fromkeys(cats, fit),
                                    area, "人次", cap(capacity * rng.uniform(0.75, 1.25))))
        providers.append({"id": pid, "name": name, "kind": "ngo", "services": services})

    # Mutual-aid groups: property groups are the only property supply, and not everywhere.
    for group, (suffix, has, category, fit) in _GROUPS.items():
        if category not in codes:
            continue
        members = [c for c in district.communities if has(c)]
        local = sum(_area_demand(demand, category, [c.code]) for c in members)
        if not members or local <= 0:
            continue
        ratio = _GROUP_RATIO.get(category, 0.1)
        if category == "property":
            # The only property supply: a share of the whole district's demand, carried by the
            # communities that have a group.
            ratio *= _area_demand(demand, category) / local
        for c in members:
            pid = f"mutual.{c.code}.{suffix}"
            capacity = _area_demand(demand, category, [c.code]) * ratio * rng.uniform(0.8, 1.2)
            help_line = service(f"{pid}.help", f"{c.name}{group}志愿服务", {category: fit},
                                [c.code], "件", cap(capacity))
            providers.append({"id": pid, "name": f"{c.name}{group}", "kind": "mutual_aid",
                              "services": [help_line]})
    return {"providers": providers}


def _write_supply(out: Path, registry: dict[str, Any]) -> None:
    body = yaml.safe_dump(registry, allow_unicode=True, sort_keys=False, default_flow_style=None,
                          width=110)
    head = ("# Supply registry of the demo district, written by minsheng.generate.\n"
            "# capacity = demand items a service can take per week;\n"
            "# categories: category code -> primary | secondary.\n")
    (out / "supply.yaml").write_text(head + body, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

_OWNED = {"hotline": ("work_orders_*.csv", "hot_orders_*.csv"),
          "platform": ("messages_*.jsonl", "hot_messages_*.jsonl"), "meetings": ("*.md",),
          "survey": ("survey_export.csv",), "truth": ("*",)}


def _prepare(out: Path) -> None:
    """Create the channel folders and drop files a previous run left there (only files named
    as this generator names them), so that a shorter run leaves no stale weeks behind."""
    for sub, patterns in _OWNED.items():
        folder = out / sub
        folder.mkdir(parents=True, exist_ok=True)
        for old in (p for pattern in patterns for p in folder.glob(pattern)):
            if old.is_file():
                old.unlink()


def generate_district(out: Path, weeks: int, seed: int, *, start_week: str = "2026-W40",
                      district: District, taxonomy: Taxonomy,
                      scale: float = 1.0, hot_issues: int = HOT_ISSUES) -> GenerationManifest:
    """Write a demo district under ``out``: ``weeks`` ISO weeks from ``start_week`` of hotline
    work orders, platform messages and meeting notes (volumes times ``scale``), one survey
    export, ``supply.yaml`` and ``truth/``, and, where the district lists places, ``hot_issues``
    planted hot issues in files of their own. The same arguments give byte-identical files.

    The last week carries the planted spike (C03, elderly_care, 3x)."""
    if weeks < 1:
        raise ValueError("weeks must be >= 1")
    if scale <= 0:
        raise ValueError("scale must be > 0")
    if SPIKE_COMMUNITY not in district.community_codes or SPIKE_CATEGORY not in taxonomy.codes:
        raise ValueError(f"the spike needs community {SPIKE_COMMUNITY} "
                         f"and category {SPIKE_CATEGORY}")
    out = Path(out)
    week_list = week_range(start_week, weeks)
    spike = Spike(week_list[-1], SPIKE_COMMUNITY, SPIKE_CATEGORY, SPIKE_FACTOR)
    _prepare(out)
    book = _Phrasebook(taxonomy)
    truth = _Truth()
    counts = dict.fromkeys(["hotline", "platform", "meeting_files", "meeting_items",
                            "survey_returned", "survey_valid"], 0)
    factors = [_week_factor(seed, i, w) for i, w in enumerate(week_list)]
    for week, factor in zip(week_list, factors):
        counts["hotline"] += _write_hotline(out, week, factor, scale, seed, district, taxonomy,
                                            book, spike, truth)
        counts["platform"] += _write_platform(out, week, factor, scale, seed, district, taxonomy,
                                              book, spike, truth)
        files, items = _write_meetings(out, week, scale, seed, district, taxonomy, book, spike,
                                       truth)
        counts["meeting_files"] += files
        counts["meeting_items"] += items
    counts["survey_returned"], counts["survey_valid"] = _write_survey(
        out, week_list, seed, district, taxonomy, book, truth)
    counts.update(hot_hotline=0, hot_platform=0, hot_meeting_items=0)
    if hot_issues and any(c.places for c in district.communities):
        # concrete problems raised again and again at the district's named places: what the
        # report's hot issues must find (their truth in truth/hot_issues.json)
        from minsheng.demo.hot_issues import generate_hot_issues, write_exports

        hot = generate_hot_issues(seed, weeks, start=week_start(start_week), planted=hot_issues,
                                  background_per_week=0, long_messages=2, district=district,
                                  current=hot_issues // 2)
        written = write_exports(hot, out, {c.code: c.name for c in district.communities})
        hot_counts = written["counts"]
        for key, channel in (("hot_hotline", "hotline"), ("hot_platform", "platform"),
                             ("hot_meeting_items", "meeting_items")):
            counts[key] = hot_counts.get(channel, 0)
        truth.pii.update(written["pii"])
        (out / "truth" / "hot_issues.json").write_text(
            json.dumps(written["planted"], ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    _write_supply(out, _build_supply(seed, district, taxonomy, scale, sum(factors) / len(factors)))

    manifest = GenerationManifest(out=out, seed=seed, weeks=week_list, spike=spike, counts=counts)
    _write_truth(out, manifest, truth)
    return manifest


def _write_truth(out: Path, manifest: GenerationManifest, truth: _Truth) -> None:
    data = manifest._as_dict()
    # Relative, so that the same seed gives the same bytes wherever the district is written.
    data["out"] = "."
    data["texts"] = truth.texts
    data["pii"] = sorted(truth.pii)
    data["addresses"] = sorted(truth.addresses)
    (out / "truth" / "manifest.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with (out / "truth" / "labels.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["channel", "key", "category"])
        writer.writerows(truth.labels)


def labelled_corpus(n: int, seed: int, taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """``n`` (text, category code) pairs for training: every category about equally often,
    about 3 % off-topic texts labelled ``taxonomy.other_code``, in all channel styles."""
    rng = Random(f"{seed}:corpus")
    book = _Phrasebook(taxonomy)
    n_other = round(0.03 * n)
    labels = [taxonomy.other_code] * n_other
    codes = list(taxonomy.codes)
    while len(labels) < n:
        rng.shuffle(codes)
        labels.extend(codes[: n - len(labels)])
    rng.shuffle(labels)
    styles = {"hotline": 0.45, "platform": 0.3, "meeting": 0.15, "survey": 0.1}
    return [(book.demand(rng, code, _weighted(rng, styles)).text, code) for code in labels]
