"""Appeal texts, addresses, replies and reporters for the demo history, assembled from the
phrase pools in `phrases.py` and the places of the appeal's community (gazetteer)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from . import phrases as P


@dataclass(frozen=True)
class Place:
    """What the text maker needs to know about a community."""

    community: str
    street: str
    places: tuple[str, ...]
    roads: tuple[str, ...]
    street_roads: tuple[str, ...]


class Slots(dict):
    """The `{slot}` values of one case, drawn on first use and then kept, so the appeal, its
    address and the unit's reply name the same place."""

    def __init__(self, rng: random.Random, place: Place):
        super().__init__()
        self.rng = rng
        self.place = place

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _pick_place(self, words: tuple[str, ...], fallback: str, unless: tuple[str, ...] = ()) -> str:
        hits = [p for p in self.place.places if any(w in p for w in words) and not any(w in p for w in unless)]
        return self.rng.choice(hits) if hits else fallback

    def _draw(self, key: str) -> str:
        rng, place = self.rng, self.place
        if key == "place":
            return rng.choice(place.places) if place.places else place.community
        if key == "home":
            return self._pick_place(P.HOME_WORDS, f"{self['road']}{rng.randint(2, 240)}号院", unless=P.NOT_HOME_WORDS)
        if key == "caller":
            return rng.choice(P.SURNAMES) + rng.choice(["女士", "先生"])
        if key == "place2":
            others = [p for p in place.places if p != self["place"]]
            return rng.choice(others) if others else self["place"]
        if key == "road":
            return rng.choice(place.roads or place.street_roads or ("建设西路",))
        if key == "road2":
            pool = [r for r in (*place.roads, *place.street_roads) if r != self["road"]]
            return rng.choice(pool) if pool else "建设西路"
        if key == "community":
            return place.community
        if key == "street":
            return place.street
        if key == "bld":
            return f"{rng.randint(1, P.BLD_MAX)}号楼"
        if key == "unit_no":
            return f"{rng.randint(1, 6)}单元"
        if key == "surname":
            return rng.choice(P.SURNAMES)
        if key == "school":
            return self._pick_place(("小学", "幼儿园", "学校", "中学"), f"{self['road']}小学")
        if key == "market":
            return self._pick_place(("市场", "早市"), f"{self['road']}菜市场")
        if key == "park":
            return self._pick_place(("公园", "游园", "广场"), f"{place.community}小游园")
        if key == "shop":
            kind = rng.choice(P.SHOP_KINDS)
            return rng.choice([f"{self['surname']}记{kind}", f"惠民{kind}", f"{self['road']}{kind}", f"好又多{kind}"])
        if key == "restaurant":
            kind = rng.choice(P.RESTAURANT_KINDS)
            return rng.choice([f"{self['surname']}记{kind}", f"老{self['surname']}家{kind}", f"{self['road']}{kind}"])
        if key == "company":
            return f"郑州{rng.choice(P.COMPANY_WORDS)}{rng.choice(P.COMPANY_KINDS)}"
        if key == "bus":
            return f"{rng.choice([1, 2, 6, 9, 19, 26, 32, 39, 43, 52, 57, 64, 70, 96, 105, 111, 204, 301, 906])}路"
        simple = {
            "since": P.SINCE, "night": P.NIGHT, "times": P.TIMES, "months": P.MONTHS, "money": P.MONEY,
            "workers": P.WORKERS, "temp": P.TEMP, "date_hint": P.DATE_HINT, "brand": P.BRANDS, "hospital": P.HOSPITALS,
        }
        if key in simple:
            return rng.choice(simple[key])
        raise KeyError(key)


@dataclass
class Appeal:
    text: str
    core: str
    address: str
    slots: Slots


class TextMaker:
    """Builds what a resident wrote and what the unit answered, per subcategory."""

    def __init__(self, rng: random.Random, district_name: str = "中原区"):
        self.rng = rng
        self.district = district_name

    def pool(self, code: str, name: str = "", note: str = "") -> dict[str, list[str]]:
        pool = P.POOLS.get(code)
        if pool:
            return pool
        # A subcategory the phrase pools do not know (a district's own taxonomy): say it plainly.
        topics = [t for t in note.replace("、", "，").split("，") if t] or [name or "相关问题"]
        return {
            "P": [f"{{place}}附近存在{t}的问题" for t in topics],
            "R": [f"已对{{place}}反映的{name or '相关'}问题进行核查处理"],
        }

    def appeal(self, *, code: str, name: str, note: str, channel: str, place: Place, urgent: bool, core: str | None = None,
               slots: Slots | None = None, caller: str = "") -> Appeal:
        """`caller`: how the hotline record names the reporter (张女士); none for anonymous."""
        rng = self.rng
        slots = slots if slots is not None else Slots(rng, place)
        pool = self.pool(code, name, note)
        calm = code in P.CALM
        if core is None:
            problems = pool.get("U") if urgent and pool.get("U") else pool["P"]
            core = rng.choice(problems).format_map(slots)
        openers = P.OPENERS.get(channel, [""])
        if not caller:
            openers = [o for o in openers if "{caller}" not in o] or [""]
        opener = rng.choice(openers)
        if "{caller}" in opener:
            opener = opener.replace("{caller}", caller)
        opener = opener.format_map(slots)
        if channel == "hotline" and rng.random() < 0.3:
            opener += f"其居住在{place.street}{place.community}，"
        parts = [opener, core, "。" if not urgent else "，情况紧急！"]
        r = rng.random()
        if calm or urgent:  # no "reported many times, nobody came" in a question or an emergency
            if pool.get("D") and r < 0.5:
                parts.append(rng.choice(pool["D"]).format_map(slots))
        elif r < 0.8:
            details = pool.get("D") if pool.get("D") and rng.random() < 0.7 else P.GENERIC_DETAILS
            first = rng.choice(details)
            parts.append(first.format_map(slots))
            if r < 0.12:
                second = rng.choice(P.GENERIC_DETAILS)
                if second != first:
                    parts.append(second.format_map(slots))
        if urgent:
            parts.append(rng.choice(["请立即派人处理！", "请尽快派人到现场！", "希望马上处理。"]))
        elif calm:
            if pool.get("A") and rng.random() < 0.8:
                parts.append(rng.choice(pool["A"]).format_map(slots))
        elif rng.random() < 0.92:
            asks = pool.get("A") if pool.get("A") and rng.random() < 0.6 else P.GENERIC_ASKS
            parts.append(rng.choice(asks).format_map(slots))
        if channel == "web":
            parts.append(rng.choice(P.WEB_THANKS))
        text = "".join(parts)
        return Appeal(text=text, core=core, address=self.address(slots, code), slots=slots)

    def address(self, slots: Slots, code: str) -> str:
        rng = self.rng
        prefix = rng.choice(["", "", f"{self.district}", f"{self.district}{slots.place.street}"])
        where = "home" if "home" in slots else ("place" if "place" in slots else None)
        if where:
            tail = slots[where]
            if "bld" in slots:
                tail += slots["bld"] + (slots["unit_no"] if "unit_no" in slots else "")
            elif rng.random() < 0.4 and any(w in tail for w in ("小区", "院", "花园", "家园", "城", "苑")):
                tail += f"{rng.randint(1, P.BLD_MAX)}号楼"
            return prefix + tail
        if "road" in slots:
            if "road2" in slots:
                return prefix + f"{slots['road']}与{slots['road2']}交叉口"
            return prefix + f"{slots['road']}{rng.randint(1, 260)}号"
        return prefix + slots["place"]

    def reply(self, *, code: str, name: str, note: str, slots: Slots, core: str = "", rehandle: bool = False) -> str:
        """The unit's answer: of the subcategory's replies, one that speaks to the problem
        (`core`, by shared character pairs), in the words of the same place."""
        rng = self.rng
        pool = self.pool(code, name, note)
        core = self._matching(pool["R"], core).format_map(slots)
        if rehandle:
            opener = rng.choice(P.REHANDLE_REPLIES)
        elif code.startswith("JX."):
            opener = ""
        else:
            opener = rng.choice(P.REPLY_OPENERS)
        return f"{opener}{core}。{rng.choice(P.REPLY_CLOSERS)}"

    def _matching(self, replies: list[str], problem: str) -> str:
        """Replies may start with 'key|key::': they answer problems that mention a key. Without
        a key hit: a general reply of the pool, else the reply sharing most character pairs."""
        keyed, general = [], []
        for reply in replies:
            keys, sep, text = reply.partition("::")
            (keyed.append((keys.split("|"), text)) if sep else general.append(reply))
        matched = [(sum(k in problem for k in keys), text) for keys, text in keyed]
        most = max((n for n, _ in matched), default=0)
        if most:
            return self.rng.choice([text for n, text in matched if n == most])
        if general:
            return self.rng.choice(general)
        pairs = {problem[i:i + 2] for i in range(len(problem) - 1)} - _COMMON_PAIRS
        scores = []
        for _, text in keyed:
            plain = _SLOT.sub("", text)
            scores.append(len({plain[i:i + 2] for i in range(len(plain) - 1)} & pairs))
        best = max(scores)
        return self.rng.choice([text for (_, text), score in zip(keyed, scores) if score == best])

    def person(self, *, formal: bool = True) -> str:
        rng = self.rng
        surname = rng.choice(P.SURNAMES)
        if not formal:
            return surname + rng.choice(["女士", "先生"])
        return surname + "".join(rng.choice(P.GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))

    def phone(self) -> str:
        rng = self.rng
        return rng.choice(["13", "15", "18", "17", "19"]) + "".join(str(rng.randint(0, 9)) for _ in range(9))


_SLOT = re.compile(r"\{[^}]*\}")
# Pairs too common to say two sentences are about the same thing.
_COMMON_PAIRS = {"已经", "进行", "一直", "没有", "问题", "希望", "相关", "部门", "处理", "情况", "诉求", "附近", "居民", "现场", "工作", "人员"}
