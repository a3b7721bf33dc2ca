"""``minsheng init DIR``: a district's config folder to start from, commented throughout.

The district, its supply registry and its settings come from ``configs/starter/``; the
taxonomy, the channel mappings, the matching costs and the jieba dictionary are the packaged
ones (the case study's categories fit most sub-districts), the adjacency table left out (it
names the demo's communities) and a ``label_map`` example added.
"""

from __future__ import annotations

import re
from pathlib import Path

from minsheng.settings import packaged_config_dir

_LABEL_MAP = """
# Optional. A model trained on the district's own labels (its departments, say) predicts those
# labels; map each to the category matching and the gap tables use. Labels that are category
# codes need no entry.
# label_map:
#   城乡建设: property
#   劳动和社会保障: employment
"""

_ADJACENCY = """# Optional. Which communities border which (listing a pair once is enough): travel between
# adjacent ones costs travel_cost_per_hop a step. Without it, travel costs nothing.
# adjacency:
#   C01: [C02]
"""


def write_starter(folder: Path, *, force: bool = False) -> list[Path]:
    """Write the starter files into ``folder``; refuses to overwrite unless ``force``.
    Returns the files written."""
    packaged = packaged_config_dir()
    plan: dict[str, str] = {p.name: p.read_text(encoding="utf-8") for p in (packaged / "starter").glob("*.yaml")}
    plan["taxonomy.yaml"] = (packaged / "taxonomy.yaml").read_text(encoding="utf-8").rstrip() + "\n" + _LABEL_MAP
    plan["channels.yaml"] = (packaged / "channels.yaml").read_text(encoding="utf-8")
    matching = (packaged / "matching.yaml").read_text(encoding="utf-8")
    # the demo's adjacency table names the demo's communities: replace it by a commented example
    matching = re.sub(r"(?m)^# Which communities border which[^\n]*\n(?:#[^\n]*\n)*adjacency:\n(?:[ \t]+[^\n]*\n)+",
                      _ADJACENCY, matching)
    plan["matching.yaml"] = matching
    for name in ("userdict.txt", "stopwords.txt"):
        plan[f"jieba/{name}"] = (packaged / "jieba" / name).read_text(encoding="utf-8")
    targets = {folder / name: text for name, text in plan.items()}
    if not force and (taken := [str(p) for p in targets if p.exists()]):
        raise FileExistsError(f"{', '.join(taken)} already exist: pass --force to overwrite them")
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(targets)


__all__ = ["write_starter"]
