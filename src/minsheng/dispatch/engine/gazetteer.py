"""Resolving where an appeal happened: free text -> 街道 (street office) and 社区/村 (community).

Residents write places the way they say them: "锦绣城" for 锦绣城小区, "国棉五厂的家属院",
"金园小区" for 金苑小区, "工大家属院", "建设路和桐柏路交叉口". The gazetteer answers with the
street and community when the text pins them down, and says "ambiguous" (street None) when it
does not: a wrong street sends the case to the wrong office, which is worse than asking.

How matching works
- Every name the gazetteer knows (community names and aliases, places, roads, street names) is
  indexed under a *normalised* key, together with derived variants: the bare name with its type
  suffix dropped (小区, 家属院, 花园, 社区, 村 ...), the name without a city/brand prefix
  (郑州, 河南, 正商 ...) and the sub-part of a compound place (帝湖花园西王府 -> 西王府).
- Normalisation is char-for-char (so positions map back to the raw text): full-width to
  half-width, 的 and spaces dropped, Chinese numerals before 号 turned into digits, and
  homophones / near-homophones folded onto one character (苑/园/院/源, 需/须, 颍/颖, 砦/寨 ...).
  A match whose raw spelling equals a known surface counts as exact and only its own targets
  apply; a match found only through folding keeps every target with that folded key, so
  金园 (金苑? 金源?) stays ambiguous instead of being guessed.
- When nothing matched, a one-edit fuzzy pass (SymSpell-style deletions) over names of four or
  more characters catches a dropped or mistyped character.
- Resolution prefers specific evidence (place, community, two-road intersection) over roads and
  street names, and agreement over conflict; conflicting evidence gives street None.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

# --------------------------------------------------------------------------------------------
# Normalisation

#: Groups of characters residents confuse when typing place names (same or near pronunciation
#: in Mandarin, or visually close). Each group folds onto its first character. Only folding is
#: done here; whether a folded match is trusted is decided by the ambiguity rules.
CONFUSABLE_GROUPS = (
    "园苑院源元圆垣", "须需", "颍颖", "寨砦", "垌洞峒", "闫阎严颜", "馨欣新鑫心", "怡宜仪",
    "汇惠会", "湾弯", "沙砂", "绣秀", "棉绵", "淮怀槐", "澜兰蓝缆", "锦金", "帝第", "凯开楷",
    "嵩松", "陇龙垄", "昆坤", "岭林陵领", "柏百佰", "航杭", "启起", "福富甫府付伏扶",
    "郑正政", "煤梅媒", "鸽歌", "杏幸", "椿春", "冉然", "屯囤", "柿市", "址指纸", "刁貂",
    "洛落骆", "岗港钢刚", "坡破", "汝如儒", "密蜜", "湖胡", "莱来", "威伟薇",
    "景井静晶精京经", "华花", "桐同铜童", "泉全", "庙妙", "达大", "铝吕", "纺仿访", "陈晨",
    "伍五武", "赵照", "仙先", "冯逢", "旋玄", "郭国", "厂场", "铺堡", "茜西",
)
_FOLD = {ch: group[0] for group in CONFUSABLE_GROUPS for ch in group}

#: Characters residents insert or that carry no place information; dropped before matching.
_DROPPED = set(" \t\r\n\u3000的·•・-—_")

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_NUMBER_BEFORE_HAO = re.compile(r"[零〇一二两三四五六七八九十百]+(?=号)")


def _cn_to_int(s: str) -> int | None:
    """Chinese numeral to int: 五十 -> 50, 一百零二 -> 102, 十一 -> 11, 一零二 -> 102."""
    if "十" not in s and "百" not in s:
        return int("".join(str(_CN_DIGITS[ch]) for ch in s)) if s else None
    total, current = 0, 0
    for ch in s:
        if ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return total + current or None


def _digits_before_hao(text: str) -> str:
    """五十号院 -> 50号院, so spoken house numbers meet the written ones."""
    def repl(m: re.Match) -> str:
        value = _cn_to_int(m.group(0))
        return str(value) if value is not None else m.group(0)
    return _CN_NUMBER_BEFORE_HAO.sub(repl, text)


def light_normalise(text: str) -> tuple[str, list[int]]:
    """Structural clean-up; returns the cleaned text and, per char, its index in the raw text."""
    text = _digits_before_hao(text.translate(_FULLWIDTH)) if text else ""
    out, offsets = [], []
    for i, ch in enumerate(text):
        if ch in _DROPPED:
            continue
        out.append(ch.lower())
        offsets.append(i)
    return "".join(out), offsets


def fold(text: str) -> str:
    """Fold confusable characters (same length as the input)."""
    return "".join(_FOLD.get(ch, ch) for ch in text)


def normalise(text: str) -> str:
    """Full normalisation used for index keys."""
    return fold(light_normalise(text)[0])


# --------------------------------------------------------------------------------------------
# Variant generation

#: Type suffixes residents drop ("锦绣城小区" -> "锦绣城"), longest first.
_TYPE_SUFFIXES = (
    "社区居民委员会", "社区居委会", "居民委员会", "村民委员会", "村委会", "居委会",
    "家属院", "家属区", "家属楼", "宿舍楼", "小区", "社区", "花园", "家园", "大院", "新苑",
    "村", "苑", "院", "园",
)
#: Compound words inside a name that residents leave out (国棉五厂家属院北区 -> 国棉五厂北区).
_INTERIOR_WORDS = ("家属院", "家属区", "小区")
#: Prefixes residents leave out ("郑州一中" -> "一中", "正商花语里" -> "花语里").
_DROPPABLE_PREFIXES = ("河南省", "郑州市", "中原区", "河南", "郑州", "正商", "省", "市")
#: Words that make a bare name a common noun ("人社局", "农业银行", "中心医院"): such names
#: only count as a place when a location word follows them (人社局家属院, 中心医院门口).
_INSTITUTION_WORDS = ("局", "银行", "医院", "公司", "集团", "大学", "学院", "日报", "制药厂",
                      "政府", "机械化", "电缆", "电力")
#: What may follow a short or institution-like name for it to count as a location.
_LOCATION_FOLLOWER = re.compile(
    r"^(小区|社区|家属|宿舍|院|村|楼|号|门口|[那这](?:边|块|片|儿|里|栋|个小区|一带)|大门|附近|旁边|对面|周边|周围|那边|这边|那块|一带|片区|"
    r"里面|北区|南区|东区|西区|北门|南门|东门|西门|[东西南北]侧|路口|幼儿园|小学|菜市场|市场|广场|游园|"
    r"花园|新苑|苑|园|安置|二期|三期|一期|老厂|厂区|大厦|商业街)"
)
#: What may precede a short or institution-like name for it to count as a location ("住在百花").
_LOCATION_CUE_BEFORE = re.compile(r"(住在|家在|住|位于|地址是|地址|搬到)$")
#: Connectors between two road names that make them an intersection ("A路和B路交叉口").
_INTERSECTION_GAP = re.compile(r"^(和|与|跟|及|同|、|/|,|，|交|交叉口|交汇处)?$")
_MIN_FUZZY_LEN = 5


@dataclass(frozen=True)
class Target:
    """What a name points to."""
    kind: str  # place | community | alias | street | road
    street: str | None
    community: str | None
    label: str  # the canonical name (place name, community name, road name, street name)


@dataclass(frozen=True)
class Entry:
    surface: str  # light-normalised spelling as written in the gazetteer (or derived)
    target: Target
    derived: bool  # a generated variant, not a listed name
    guarded: bool  # needs a location word after it (short or institution-like names)


@dataclass
class Match:
    start: int  # in light-normalised text
    end: int
    surface: str  # the text as the resident wrote it (light-normalised)
    targets: list[Target]
    quality: str  # exact | variant | fuzzy

    @property
    def kind(self) -> str:
        kinds = {t.kind for t in self.targets}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    @property
    def communities(self) -> set[str]:
        return {t.community for t in self.targets if t.community}

    @property
    def streets(self) -> set[str]:
        return {t.street for t in self.targets if t.street}


@dataclass
class Location:
    """Where an appeal happened, as far as the text tells."""
    street: str | None = None
    community: str | None = None
    confidence: float = 0.0
    matched: str = ""
    reason: str = "未识别到地点"
    ambiguous: bool = False
    candidates: list[dict] = field(default_factory=list)
    kind: str = ""  # what settled it: place | community | alias | intersection | street | road
    label: str = ""  # canonical name of what matched (碧沙岗公园, 建设西路与桐柏路交叉口 ...)

    @property
    def found(self) -> bool:
        return self.street is not None


#: Distinct address strings whose location is remembered (a few MB at most).
ADDRESS_MEMO_SIZE = 20_000
_QUALITY_CONFIDENCE = {"exact": 1.0, "variant": 0.85, "fuzzy": 0.7}
_KIND_CONFIDENCE = {"place": 0.95, "community": 0.95, "alias": 0.9, "intersection": 0.85,
                    "street": 0.9, "road": 0.7}
_KIND_LABEL = {"place": "地点", "community": "社区", "alias": "社区", "street": "街道",
               "road": "道路", "intersection": "路口"}


class Gazetteer:
    """The district's place names, indexed for resolving appeal locations."""

    def __init__(self, data: dict):
        self.district = data.get("district") or {}
        self.road_aliases: dict[str, str] = dict(data.get("road_aliases") or {})
        self.streets: dict[str, dict] = {}
        self.communities: dict[str, dict] = {}
        self.road_communities: dict[str, set[str]] = defaultdict(set)
        for street in data.get("streets") or []:
            self.streets[street["code"]] = street
            for comm in street.get("communities") or []:
                self.communities[comm["code"]] = {**comm, "street": street["code"]}
                for road in comm.get("roads") or []:
                    self.road_communities[road].add(comm["code"])
        self._index: dict[str, list[Entry]] = defaultdict(list)
        self._build_index()
        self._lengths_by_first: dict[str, list[int]] = defaultdict(list)
        for key in self._index:
            self._lengths_by_first[key[0]].append(len(key))
        for first, lengths in self._lengths_by_first.items():
            self._lengths_by_first[first] = sorted(set(lengths), reverse=True)
        self._fuzzy_by_first, self._fuzzy_by_last = self._build_fuzzy_keys()

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Gazetteer":
        with open(path, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    # ---------------------------------------------------------------- names
    def street_name(self, code: str | None) -> str:
        return self.streets.get(code or "", {}).get("name", "")

    def community_name(self, code: str | None) -> str:
        return self.communities.get(code or "", {}).get("name", "")

    def canonical_road(self, name: str) -> str:
        return self.road_aliases.get(name, name)

    # ---------------------------------------------------------------- index building
    def _add(self, surface: str, target: Target, derived: bool) -> None:
        light, _ = light_normalise(surface)
        if len(light) < 2:
            return
        key = fold(light)
        guarded = len(light) <= 2 or (
            target.kind in ("alias", "community") and any(w in light for w in _INSTITUTION_WORDS)
        )
        if derived and target.kind == "place" and any(w in light for w in _INSTITUTION_WORDS):
            guarded = True
        # "向中原区人民政府反映" names the addressee, not the place of the problem
        if target.kind == "place" and "政府" in light:
            guarded = True
        entry = Entry(light, target, derived, guarded)
        entries = self._index[key]
        for i, existing in enumerate(entries):
            if existing.target == target and existing.surface == light:
                # a listed name outranks the same spelling derived from another name
                if (existing.derived, existing.guarded) > (derived, guarded):
                    entries[i] = entry
                return
        entries.append(entry)

    def _add_with_variants(self, surface: str, target: Target) -> None:
        self._add(surface, target, derived=False)
        for variant in _variants(surface):
            self._add(variant, target, derived=True)

    def _build_index(self) -> None:
        road_names = set(self.road_communities) | set(self.road_aliases)
        for code, street in self.streets.items():
            target = Target("street", code, None, street["name"])
            for name in [street["name"], *(street.get("aliases") or [])]:
                self._add(name, target, derived=False)
            bare = _strip_street_suffix(street["name"])
            # a bare street name that is also a road (建设路, 棉纺路) means the road, not the office
            if bare not in road_names and len(bare) >= 2:
                self._add(bare, target, derived=True)
        for code, comm in self.communities.items():
            street = comm["street"]
            self._add_with_variants(comm["name"], Target("community", street, code, comm["name"]))
            for alias in comm.get("aliases") or []:
                self._add_with_variants(alias, Target("alias", street, code, comm["name"]))
            places = comm.get("places") or []
            for place in places:
                self._add_with_variants(place, Target("place", street, code, place))
            for variant in _road_community_variants(comm["name"]):
                self._add(variant, Target("community", street, code, comm["name"]), derived=True)
            for part in _compound_parts(places):
                self._add(part[1], Target("place", street, code, part[0]), derived=True)
        for road in road_names:
            canonical = self.canonical_road(road)
            self._add(road, Target("road", None, None, canonical), derived=road != canonical)

    def _build_fuzzy_keys(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Long non-road names by first and by last character: a plausible typo keeps one end."""
        by_first: dict[str, list[str]] = defaultdict(list)
        by_last: dict[str, list[str]] = defaultdict(list)
        for key, entries in self._index.items():
            if len(key) < _MIN_FUZZY_LEN:
                continue
            if all(e.target.kind == "road" or e.guarded for e in entries):
                continue
            by_first[key[0]].append(key)
            by_last[key[-1]].append(key)
        return by_first, by_last

    # ---------------------------------------------------------------- matching
    def find_matches(self, text: str) -> tuple[list[Match], str]:
        """Leftmost-longest matches of known names in the text (exact or folded)."""
        light, _ = light_normalise(text)
        folded = fold(light)
        matches: list[Match] = []
        pos, n = 0, len(folded)
        while pos < n:
            match = self._match_at(light, folded, pos)
            if match is None:
                pos += 1
            else:
                matches.append(match)
                pos = match.end
        return matches, light

    def _match_at(self, light: str, folded: str, pos: int) -> Match | None:
        for length in self._lengths_by_first.get(folded[pos], ()):
            end = pos + length
            if end > len(folded):
                continue
            entries = self._index.get(folded[pos:end])
            if not entries:
                continue
            written = light[pos:end]
            if any(e.guarded for e in entries) and not _location_context(light, pos, end):
                entries = [e for e in entries if not e.guarded]
            if not entries:
                continue
            exact = [e for e in entries if e.surface == written]
            chosen = exact or entries
            quality = "exact" if exact and not all(e.derived for e in exact) else "variant"
            return Match(pos, end, written, _dedupe([e.target for e in chosen]), quality)
        return None

    def fuzzy_matches(self, light: str) -> list[Match]:
        """Names within one edit of the text (a dropped, inserted or mistyped character)."""
        folded = fold(light)
        n = len(folded)
        hits: list[tuple[int, int, str]] = []  # (start, end, key)
        for pos in range(n):
            for key in self._fuzzy_by_first.get(folded[pos], ()):
                size = len(key)
                for length in (size, size - 1, size + 1):
                    end = pos + length
                    # cheap rejects first: an indel keeps the last character, a substitution
                    # keeps the last or the second one
                    if end > n or (folded[end - 1] != key[-1] and (length != size or folded[pos + 1] != key[1])):
                        continue
                    if _plausible_typo(key, folded[pos:end]):
                        hits.append((pos, end, key))
            for key in self._fuzzy_by_last.get(folded[pos], ()):
                start = pos + 1 - len(key)
                if start >= 0 and folded[start] != key[0] and folded[start + 1] == key[1] \
                        and _plausible_typo(key, folded[start:pos + 1]):
                    hits.append((start, pos + 1, key))
        found: list[Match] = []
        # longest names first, then leftmost; overlapping weaker hits are dropped
        for start, end, key in sorted(hits, key=lambda h: (-len(h[2]), h[0])):
            if any(start < m.end and m.start < end for m in found):
                continue
            targets = _dedupe([e.target for e in self._index[key]
                               if e.target.kind != "road" and not e.guarded])
            if targets:
                found.append(Match(start, end, light[start:end], targets, "fuzzy"))
        return sorted(found, key=lambda m: m.start)

    # ---------------------------------------------------------------- resolution
    def locate(self, text: str, address: str = "") -> Location:
        """Where the appeal happened. The address field, when it resolves, wins over the text."""
        if address and address.strip():
            from_address = self._locate_address(address)
            if from_address.street:
                if from_address.community is None:
                    refined = self._locate_text(text)
                    if refined.street == from_address.street and refined.community:
                        return refined
                return from_address
        return self._locate_text(text)

    def _locate_address(self, address: str) -> Location:
        """`_locate_text` of an address field, remembered per distinct string: a bulk import
        names the same few hundred places thousands of times. Each caller gets its own copy."""
        memo = self.__dict__.setdefault("_address_memo", {})
        found = memo.get(address)
        if found is None:
            if len(memo) >= ADDRESS_MEMO_SIZE:
                memo.clear()
            found = memo[address] = self._locate_text(address)
        return replace(found, candidates=list(found.candidates))

    def _locate_text(self, text: str) -> Location:
        matches, light = self.find_matches(text or "")
        specific = [m for m in matches if m.kind not in ("road", "street")]
        if not specific:
            specific = [m for m in self.fuzzy_matches(light) if not _overlaps(m, matches)]
            matches = sorted(matches + specific, key=lambda m: m.start)
        return self._resolve(matches, light)

    def _resolve(self, matches: list[Match], light: str) -> Location:
        roads = [m for m in matches if m.kind == "road"]
        streets = [m for m in matches if m.kind == "street"]
        specific = [m for m in matches if m.kind not in ("road", "street")]
        evidence = [_Evidence.of(m) for m in specific] + self._intersections(roads, light)
        mentioned_roads = {t.label for m in roads for t in m.targets}
        named_streets = {s for m in streets for s in m.streets}

        unique = [e for e in evidence if len(e.communities) == 1]
        if unique:
            loc = self._from_community_evidence(unique, mentioned_roads, named_streets)
            if loc is not None:
                return loc
        # several candidates per name (金园, 三官庙): settle with roads or street names, if they do
        for ev in evidence:
            narrowed = self._narrow(ev.communities, mentioned_roads, named_streets)
            if len(narrowed) == 1:
                code = narrowed.pop()
                return self._location(code, ev.confidence * 0.9, ev.surface,
                                      f"匹配{_KIND_LABEL[ev.kind]}：{ev.surface}（结合道路/街道）",
                                      ev.kind, self.community_name(code))
        return self._street_level(evidence, roads, streets)

    def _from_community_evidence(self, unique, roads, named_streets) -> Location | None:
        by_comm: dict[str, list[_Evidence]] = defaultdict(list)
        for ev in unique:
            by_comm[next(iter(ev.communities))].append(ev)
        if len(by_comm) > 1:
            # exact evidence outranks folded/fuzzy spellings
            exact = {c: evs for c, evs in by_comm.items() if any(e.quality == "exact" for e in evs)}
            if exact:
                by_comm = exact
        if len(by_comm) > 1:
            narrowed = self._narrow(set(by_comm), roads, named_streets)
            if len(narrowed) == 1:
                by_comm = {c: by_comm[c] for c in narrowed}
        if len(by_comm) == 1:
            code, evs = next(iter(by_comm.items()))
            best = max(evs, key=lambda e: e.confidence)
            reason = f"匹配{_KIND_LABEL[best.kind]}：{best.surface}"
            if best.surface != best.label:
                reason += f"（{best.label}）"
            return self._location(code, best.confidence, best.surface, reason, best.kind, best.label)
        streets = {self.communities[c]["street"] for c in by_comm}
        candidates = [self._candidate(c) for c in by_comm]
        surfaces = "、".join(evs[0].surface for evs in by_comm.values())
        if len(streets) == 1:
            street = streets.pop()
            return Location(street, None, 0.8, surfaces,
                            f"多个地点均在{self.street_name(street)}：{surfaces}", False, candidates,
                            kind="street", label=self.street_name(street))
        return Location(None, None, 0.0, surfaces, f"提到多个不同街道的地点：{surfaces}，需人工确认",
                        True, candidates)

    def _street_level(self, evidence, roads, streets) -> Location:
        """No single community: settle for a street if all street-level evidence agrees."""
        options: list[tuple[set[str], float, str, str]] = []
        for m in streets:
            options.append((m.streets, 0.9, m.surface, f"匹配街道：{m.surface}"))
        for ev in evidence:
            comm_streets = {self.communities[c]["street"] for c in ev.communities}
            options.append((comm_streets, ev.confidence * 0.9, ev.surface,
                            f"匹配{_KIND_LABEL[ev.kind]}：{ev.surface}"))
        for m in roads:
            road = m.targets[0].label
            road_streets = {self.communities[c]["street"] for c in self.road_communities.get(road, ())}
            if road_streets:
                options.append((road_streets, 0.7, m.surface, f"匹配道路：{road}"))
        if not options:
            return Location()
        common = set.intersection(*(o[0] for o in options))
        decisive = [o for o in options if len(o[0]) == 1]
        if len(common) == 1:
            street = common.pop()
            best = max((o for o in options if len(o[0]) == 1), key=lambda o: o[1], default=options[0])
            confidence = best[1] if len(best[0]) == 1 else 0.6
            return Location(street, None, confidence, best[2], best[3] + f"（{self.street_name(street)}）",
                            kind="street", label=self.street_name(street))
        single = {next(iter(o[0])) for o in decisive}
        if len(single) == 1 and not common:
            # the names that point to one street agree, and no confident name points elsewhere:
            # a road through several streets that misses it does not overrule them
            street = single.pop()
            best = max(decisive, key=lambda o: o[1])
            if all(street in o[0] for o in options if o[1] >= 0.8):
                return Location(street, None, best[1] * 0.9, best[2], best[3],
                                kind="street", label=self.street_name(street))
        surfaces = "、".join(dict.fromkeys(o[2] for o in options))
        candidates = [{"street": s, "street_name": self.street_name(s)}
                      for s in sorted(set.union(*(o[0] for o in options)))]
        return Location(None, None, 0.0, surfaces, f"地点不唯一：{surfaces}，需人工确认", True, candidates)

    def _intersections(self, roads: list[Match], light: str) -> list["_Evidence"]:
        """Two roads written together ("A路和B路交叉口", "A路B路口") -> the community listing both."""
        found = []
        for a, b in zip(roads, roads[1:]):
            if not _INTERSECTION_GAP.match(light[a.end:b.start]):
                continue
            ra, rb = a.targets[0].label, b.targets[0].label
            if ra == rb:
                continue
            both = self.road_communities.get(ra, set()) & self.road_communities.get(rb, set())
            surface = light[a.start:b.end]
            if both:
                found.append(_Evidence(both, "intersection", _KIND_CONFIDENCE["intersection"],
                                       "exact", surface, f"{ra}与{rb}交叉口"))
        return found

    def _narrow(self, communities: set[str], roads: set[str], named_streets: set[str]) -> set[str]:
        narrowed = set(communities)
        if roads:
            on_road = {c for c in narrowed
                       if roads & set(self.communities[c].get("roads") or [])}
            if on_road:
                narrowed = on_road
        if named_streets:
            in_street = {c for c in narrowed if self.communities[c]["street"] in named_streets}
            if in_street:
                narrowed = in_street
        return narrowed

    def _candidate(self, code: str) -> dict:
        comm = self.communities[code]
        return {"street": comm["street"], "street_name": self.street_name(comm["street"]),
                "community": code, "community_name": comm["name"]}

    def _location(self, code: str, confidence: float, surface: str, reason: str,
                  kind: str = "", label: str = "") -> Location:
        comm = self.communities[code]
        return Location(comm["street"], code, round(min(confidence, 1.0), 3), surface, reason,
                        kind=kind, label=label or surface)

    # ---------------------------------------------------------------- autocomplete
    def suggest(self, prefix: str, limit: int = 10) -> list[dict]:
        """Names for a resident form's address box: places, communities and roads starting with
        (then containing) what was typed, each with its street and community."""
        light, _ = light_normalise(prefix or "")
        if not light:
            return []
        key = fold(light)
        kind_rank = {"place": 0, "community": 1, "alias": 2, "road": 3, "street": 4}
        scored = []
        for index_key, entries in self._index.items():
            if key not in index_key:
                continue
            for e in entries:
                if e.derived:
                    continue
                starts = index_key.startswith(key)
                exact_spelling = light in e.surface
                scored.append(((0 if starts else 1, 0 if exact_spelling else 1,
                                kind_rank.get(e.target.kind, 9), len(e.surface), e.surface), e))
        out, seen = [], set()
        for _, e in sorted(scored, key=lambda x: x[0]):
            t = e.target
            label = e.surface if t.kind != "alias" else t.label
            if (label, t.community) in seen:
                continue
            seen.add((label, t.community))
            out.append(self._suggestion(label, t))
            if len(out) >= limit:
                break
        return out

    def _suggestion(self, label: str, t: Target) -> dict:
        if t.kind == "road":
            streets = sorted({self.communities[c]["street"] for c in self.road_communities.get(t.label, ())})
            street = streets[0] if len(streets) == 1 else None
            return {"label": label, "kind": "road", "street": street,
                    "street_name": self.street_name(street), "community": None, "community_name": ""}
        kind = "community" if t.kind == "alias" else t.kind
        return {"label": label, "kind": kind, "street": t.street,
                "street_name": self.street_name(t.street), "community": t.community,
                "community_name": self.community_name(t.community)}


@dataclass
class _Evidence:
    """A specific location hint: the communities it allows and how much it is trusted."""
    communities: set[str]
    kind: str
    confidence: float
    quality: str
    surface: str
    label: str

    @classmethod
    def of(cls, m: Match) -> "_Evidence":
        kinds = [t.kind for t in m.targets if t.community]
        kind = min(kinds, key=lambda k: -_KIND_CONFIDENCE.get(k, 0.5)) if kinds else "place"
        confidence = _KIND_CONFIDENCE.get(kind, 0.8) * _QUALITY_CONFIDENCE[m.quality]
        label = m.targets[0].label if len(m.targets) == 1 else m.surface
        return cls(m.communities, kind, confidence, m.quality, m.surface, label)


# --------------------------------------------------------------------------------------------
# helpers

def _location_context(light: str, start: int, end: int) -> bool:
    """Whether the words around a short name make it a place: 百花小区, 住在百花, 杜康那边."""
    return bool(_LOCATION_FOLLOWER.match(light[end:end + 4])
                or _LOCATION_CUE_BEFORE.search(light[max(0, start - 3):start]))


def _strip_street_suffix(name: str) -> str:
    for suffix in ("街道办事处", "街道办", "街道", "办事处", "镇"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _variants(surface: str) -> set[str]:
    """Ways residents shorten a name: type suffix dropped, city/brand prefix dropped, the compound
    word inside a name dropped (国棉五厂家属院北区 -> 国棉五厂北区, and -> 国棉五厂 for the estate)."""
    out: set[str] = set()
    frontier = {surface}
    for word in _INTERIOR_WORDS:
        head, sep, tail = surface.partition(word)
        if sep and tail and len(head) >= 2:
            frontier.add(head + tail)
            out.add(head)
            break
    for prefix in _DROPPABLE_PREFIXES:
        if surface.startswith(prefix) and len(surface) - len(prefix) >= 2:
            frontier.add(surface[len(prefix):])
    if surface.endswith("地铁站"):
        # 碧沙岗地铁站 is also "碧沙岗站" and "地铁碧沙岗站"
        station = surface[: -len("地铁站")]
        frontier |= {station + "站", "地铁" + station + "站"}
    for name in list(frontier):
        out.add(name)
        for suffix in _TYPE_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                core = name[: -len(suffix)]
                # "路" or "街" left at the end means the core is a road, not this place
                if not core.endswith(("路", "街")):
                    out.add(core)
                break
    out.discard(surface)
    return out


def _road_community_variants(name: str) -> list[str]:
    """互助路社区 -> 互助路家属院, 互助路小区 ...: a community named after its road is what
    residents mean by "<road> + compound word"."""
    if not name.endswith("社区") or not name[:-2].endswith(("路", "街")):
        return []
    core = name[:-2]
    return [core + word for word in ("小区", "家属院", "家属区", "宿舍", "居委会")]


def _compound_parts(places: list[str]) -> list[tuple[str, str]]:
    """帝湖花园西王府 -> (帝湖花园西王府, 西王府) when 帝湖花园 is itself a listed place."""
    parts = []
    for place in places:
        for parent in places:
            if parent != place and place.startswith(parent) and len(place) - len(parent) >= 3:
                parts.append((place, place[len(parent):]))
    return parts


def _dedupe(targets: list[Target]) -> list[Target]:
    return list(dict.fromkeys(targets))


def _overlaps(m: Match, others: list[Match]) -> bool:
    return any(m.start < o.end and o.start < m.end for o in others)


def _plausible_typo(key: str, window: str) -> bool:
    """One edit apart, the way typos happen: a changed character keeps at least one end of the
    name; an added or dropped one keeps both ends (otherwise the window is just the name with a
    neighbouring character, which the exact pass handles, guards included)."""
    if key == window or not _edit1(key, window):
        return False
    if len(key) == len(window):
        return key[0] == window[0] or key[-1] == window[-1]
    return key[0] == window[0] and key[-1] == window[-1]


def _edit1(a: str, b: str) -> bool:
    """True when a and b are within one insertion, deletion or substitution."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    if len(a) > len(b):
        a, b = b, a
    for i in range(len(b)):
        if b[:i] + b[i + 1:] == a:
            return True
    return False
