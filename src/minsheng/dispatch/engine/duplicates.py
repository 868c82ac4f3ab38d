"""Finding repeat appeals (重复诉求) among the open cases.

The same problem is reported again and again: by the same resident through another channel,
and by neighbours in their own words ("计划路菜市场垃圾没人拉" / "菜市场门口垃圾站几天没清运").
Word-for-word repeats share most 2-character shingles and are found through MinHash LSH over the
whole index; paraphrases share few shingles (Jaccard 0.05–0.2 is usual) but share the community,
the kind of problem and often the exact spot. So a query looks at

1. the recent cases of the same community (or, when the community is unknown, the same street),
   scored by the MinHash estimate of their shingle Jaccard, or
2. when the appeal has no known place at all, the LSH candidates anywhere (near-verbatim
   repeats, e.g. of a case whose place was only in the address field of the first report),

and, when the caller says what kind of problem it is (``topic``, e.g. the subcategory) and which
specific spot it names (``place``), adds bonuses for agreeing on them. Two appeals naming
different buildings (3号楼 / 5号楼) are different problems, so the bonuses do not apply then.

Storage is columnar (numpy arrays of signatures, times and codes) next to datasketch's LSH
tables, which hold most of the memory: about 320 MB per 100,000 open cases, 2.5 GB for a million
(bench/bench_dispatch.py). A query scans at most MAX_SCAN recent cases of its own community, so
its time does not grow with the index.
"""

from __future__ import annotations

import gc
import re
import zlib
from collections import defaultdict
from datetime import datetime
from typing import Hashable, Iterable

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

NUM_PERM = 64
#: The LSH finds near-verbatim repeats anywhere in the index, e.g. a resubmission whose place
#: was only in the address field of the first report (paraphrases are found through the
#: community scan, not through LSH). 16 bands x 4 rows of the 64 permutations put the S-curve's
#: midpoint at Jaccard 0.5: candidates with p=0.64 at 0.5, 0.89 at 0.6, 0.98 at 0.7, and 0.03 at
#: 0.2, the most that unrelated appeals of one subcategory share (measured on corpus pairs).
LSH_BANDS, LSH_ROWS = 16, 4
#: Jaccard from which a text-only match is reported. Resubmissions with a tenth of the
#: characters changed and a channel prefix added score 0.5-0.7.
LSH_THRESHOLD = 0.5
#: Bonus when both appeals are about the same kind of problem, scaled by how much their
#: subcategory guesses agree (cosine of the top-3 probability vectors: 1 for the same single
#: guess, less when an unsure classification spreads over other subcategories).
TOPIC_BONUS = 0.35
#: Bonus when both name the same specific spot (a listed place or a road intersection).
PLACE_BONUS = 0.25
#: How much disagreeing urgency takes off the bonuses: urgency is itself a guess (paraphrases of
#: one problem often differ in tone), so at most half of the bonus is lost.
URGENCY_WEIGHT = 0.5
#: Combined score from which a case is reported as a likely duplicate.
DUPLICATE_THRESHOLD = 0.50
#: Cases of the same community/street looked at per query (most recent first): far more than a
#: community's open cases in a month, and it bounds the query time however large the index.
MAX_SCAN = 2000
#: Subcategory guesses kept per case for the topic agreement.
TOPICS_KEPT = 3

_SEED = 1
_SCHEME = "affine32"
_NON_CONTENT = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")
_PHONE = re.compile(r"1\d{10}|\d{3,4}-?\d{7,8}")
#: Channel boilerplate that would make unrelated hotline records look alike.
_BOILERPLATE = re.compile(
    r"市民来电反映|市民来电称|市民来电|来电人反映|来电人称|来电人|来电反映|诉求|问卷意见|问卷填写|"
    r"意见箱|走访中发现|走访中|网格员|反映|联系电话|电话|先生|女士"
)
_BUILDING = re.compile(r"(\d+|[一二三四五六七八九十]+)(?:号楼|栋|幢)")


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3 finalizer, identical to datasketch's affine32 pre-mix."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def clean_for_shingles(text: str) -> str:
    """Content characters only: no punctuation, phone numbers or channel boilerplate."""
    text = _PHONE.sub("", text or "")
    text = _BOILERPLATE.sub("", text)
    return _NON_CONTENT.sub("", text)


def shingles(text: str) -> np.ndarray:
    """Distinct 2-character shingles of the cleaned text as 32-bit ints."""
    clean = clean_for_shingles(text)
    if len(clean) < 2:
        return np.array([hash_shingle(clean or " ")], dtype=np.uint32)
    codes = {((ord(a) << 16) ^ ord(b)) & 0xFFFFFFFF for a, b in zip(clean, clean[1:])}
    return np.fromiter(codes, dtype=np.uint32, count=len(codes))


def hash_shingle(s: str) -> int:
    return sum(ord(c) << (16 * i) for i, c in enumerate(s[:2])) & 0xFFFFFFFF


def buildings(text: str) -> frozenset[str]:
    """Building numbers named in the text (3号楼, 五栋)."""
    return frozenset(m.group(1) for m in _BUILDING.finditer(text or ""))


def building_mask(text: str) -> int:
    """The buildings named in the text as a 64-bit set (0 = none named). Two numbers may share
    a bit; that only makes two appeals look like the same building, never different ones."""
    mask = 0
    for number in buildings(text):
        mask |= 1 << (zlib.crc32(number.encode()) % 64)
    return mask


class MinHasher:
    """Computes datasketch-compatible MinHash signatures without per-call set-up cost."""

    def __init__(self, num_perm: int = NUM_PERM):
        proto = MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME)
        self.num_perm = num_perm
        self._a, self._b = (np.asarray(p, dtype=np.uint32) for p in proto.permutations)

    def signature(self, text: str) -> np.ndarray:
        # A new appeal is queried and then added with the same text: the last signature is kept.
        last = self.__dict__.get("_last")
        if last is not None and last[0] == text:
            return last[1]
        hv = _fmix32(shingles(text)).reshape(-1, 1)
        with np.errstate(over="ignore"):
            sig = (hv * self._a + self._b).min(axis=0).astype(np.uint32)
        sig.flags.writeable = False  # shared by the query and the add
        self._last = (text, sig)
        return sig

    def lean(self, signature: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=_SEED, hashvalues=signature, scheme=_SCHEME)


class _SlotList:
    """Append-only int array (amortised doubling) whose tail is taken without copying."""

    __slots__ = ("_data", "_size")

    def __init__(self):
        self._data = np.zeros(16, dtype=np.int64)
        self._size = 0

    def append(self, slot: int) -> None:
        if self._size == len(self._data):
            self._data = np.concatenate([self._data, np.zeros(len(self._data), dtype=np.int64)])
        self._data[self._size] = slot
        self._size += 1

    def tail(self, k: int) -> np.ndarray:
        return self._data[max(0, self._size - k): self._size]


_EMPTY = np.zeros(0, dtype=np.int64)


class _Codes:
    """Interning of community/street/topic/place names into small ints (0 = unknown)."""

    def __init__(self):
        self.ids: dict[str, int] = {}

    def get(self, name: str | None, create: bool = False) -> int:
        if not name:
            return 0
        code = self.ids.get(name)
        if code is None and create:
            code = self.ids[name] = len(self.ids) + 1
        return code or -1  # -1: never seen, matches nothing


class DuplicateIndex:
    """Open cases, searchable for likely repeats of a new appeal."""

    def __init__(self, num_perm: int = NUM_PERM, threshold: float = LSH_THRESHOLD,
                 duplicate_threshold: float = DUPLICATE_THRESHOLD, capacity: int = 1024):
        self.hasher = MinHasher(num_perm)
        bands, rows = (LSH_BANDS, LSH_ROWS) if num_perm >= LSH_BANDS * LSH_ROWS else (None, None)
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm,
                              params=(bands, rows) if bands else None)
        self.duplicate_threshold = duplicate_threshold
        self.lsh_threshold = threshold
        self._capacity = 0
        self._size = 0
        self._sig = np.zeros((0, num_perm), dtype=np.uint32)
        self._time = np.zeros(0, dtype=np.float64)  # epoch seconds, NaN = unknown
        self._community = np.zeros(0, dtype=np.int32)
        self._street = np.zeros(0, dtype=np.int32)
        self._topic = np.zeros((0, TOPICS_KEPT), dtype=np.int32)
        self._topic_p = np.zeros((0, TOPICS_KEPT), dtype=np.float32)
        self._place = np.zeros(0, dtype=np.int32)
        self._urgency = np.full(0, np.nan, dtype=np.float32)  # P(urgent), NaN = unknown
        self._building = np.zeros(0, dtype=np.uint64)  # building_mask of the text
        self._alive = np.zeros(0, dtype=bool)
        self._grow(capacity)
        self._keys: list[Hashable] = []
        self._slot: dict[Hashable, int] = {}
        self._codes = {name: _Codes() for name in ("community", "street", "topic", "place")}
        # slots per community and per street, in arrival order
        self._by_community: dict[int, _SlotList] = defaultdict(_SlotList)
        self._by_street: dict[int, _SlotList] = defaultdict(_SlotList)
        self._by_street_unplaced: dict[int, _SlotList] = defaultdict(_SlotList)  # community unknown

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._slot

    # ---------------------------------------------------------------- storage
    def _grow(self, minimum: int) -> None:
        if minimum <= self._capacity:
            return
        new = max(minimum, self._capacity * 2, 1024)
        for name in ("_sig", "_time", "_community", "_street", "_topic", "_topic_p", "_place", "_urgency",
                     "_building", "_alive"):
            old = getattr(self, name)
            shape = (new,) + old.shape[1:]
            grown = np.full(shape, np.nan, dtype=old.dtype) if name in ("_time", "_urgency") \
                else np.zeros(shape, dtype=old.dtype)
            grown[: self._size] = old[: self._size]
            setattr(self, name, grown)
        self._capacity = new

    def add(self, key: Hashable, text: str, community: str | None = None, street: str | None = None,
            at: datetime | None = None, topic=None, place: str | None = None,
            urgency: float | None = None) -> None:
        """Index an open case. Re-adding a key replaces its earlier entry.

        ``topic`` (subcategory code or [(code, probability)]), ``place`` (specific spot) and
        ``urgency`` (probability that it is urgent) are what query() compares beyond the text."""
        if key in self._slot:
            self.remove(key)
        slot = self._size
        self._grow(slot + 1)
        sig = self.hasher.signature(text)
        self._sig[slot] = sig
        self._time[slot] = at.timestamp() if at else np.nan
        self._community[slot] = self._codes["community"].get(community, create=True)
        self._street[slot] = self._codes["street"].get(street, create=True)
        ids, probs = self._topic_vector(topic, create=True)
        self._topic[slot], self._topic_p[slot] = ids, probs
        self._place[slot] = self._codes["place"].get(place, create=True)
        self._urgency[slot] = np.nan if urgency is None else urgency
        self._alive[slot] = True
        self._building[slot] = building_mask(text)
        self._keys.append(key)
        self._slot[key] = slot
        self._size += 1
        if community:
            self._by_community[self._community[slot]].append(slot)
        if street:
            self._by_street[self._street[slot]].append(slot)
            if not community:
                self._by_street_unplaced[self._street[slot]].append(slot)
        self.lsh.insert(slot, self.hasher.lean(sig), check_duplication=False)

    def remove(self, key: Hashable) -> None:
        """Drop a case (closed, merged or withdrawn). Unknown keys are ignored."""
        slot = self._slot.pop(key, None)
        if slot is None:
            return
        self._alive[slot] = False
        self.lsh.remove(slot)

    # ---------------------------------------------------------------- querying
    def query(self, text: str, community: str | None = None, street: str | None = None,
              at: datetime | None = None, window_days: float = 30, limit: int = 5,
              topic=None, place: str | None = None, urgency: float | None = None,
              min_score: float | None = None) -> list[tuple[Hashable, float]]:
        """Likely earlier reports of the same problem, best first, as (key, score).

        ``topic`` is a subcategory code or the classifier's [(code, probability)] guesses;
        ``place`` the name of the specific spot (a listed place or an intersection).
        Without ``topic``/``place`` the score is the MinHash estimate of shingle Jaccard and
        ``min_score`` defaults to the LSH threshold. With them, the score adds the agreement
        bonuses and ``min_score`` defaults to DUPLICATE_THRESHOLD. Candidates must share the
        community (or the street when the community is unknown; with neither, any place) and,
        when ``at`` is given, have arrived within ``window_days`` before it.
        """
        if not self._slot:
            return []
        sig = self.hasher.signature(text)
        slots = self._candidates(sig, community, street, at, window_days)
        if slots.size == 0:
            return []
        jaccard = np.count_nonzero(self._sig[slots] == sig, axis=1) / sig.size
        informed = topic is not None or place is not None
        score = jaccard.copy()
        if informed:
            agreement = self._topic_agreement(slots, topic) if topic else 0.0
            same_place = self._place[slots] == self._codes["place"].get(place) if place else False
            bonus = TOPIC_BONUS * np.asarray(agreement, dtype=float) \
                + PLACE_BONUS * np.asarray(same_place, dtype=float)
            bonus = bonus * self._building_agreement(slots, building_mask(text))
            if urgency is not None:
                bonus = bonus * self._urgency_agreement(slots, urgency)
            score = score + bonus
        threshold = min_score if min_score is not None else (
            self.duplicate_threshold if informed else self.lsh_threshold)
        keep = score >= threshold
        order = np.argsort(-score[keep], kind="stable")[:limit]
        chosen, chosen_scores = slots[keep][order], score[keep][order]
        return [(self._keys[s], round(float(v), 3)) for s, v in zip(chosen, chosen_scores)]

    def _candidates(self, sig: np.ndarray, community: str | None, street: str | None,
                    at: datetime | None, window_days: float) -> np.ndarray:
        comm_id = self._codes["community"].get(community)
        street_id = self._codes["street"].get(street)
        pools: list[np.ndarray] = []
        if community and comm_id > 0:
            pools.append(self._recent(self._by_community, comm_id))
            if street and street_id > 0:
                # earlier cases placed only to our street may be about the same spot
                pools.append(self._recent(self._by_street_unplaced, street_id))
        elif street and street_id > 0:
            pools.append(self._recent(self._by_street, street_id))
        elif not community and not street:
            # no place to narrow by: near-verbatim repeats anywhere, through the LSH
            hits = self.lsh.query(self.hasher.lean(sig))
            pools.append(np.fromiter(hits, dtype=np.int64, count=len(hits)))
        if not pools:
            return _EMPTY
        slots = np.concatenate(pools)  # the pools are disjoint
        mask = self._alive[slots]
        if community and comm_id != 0:
            same_comm = self._community[slots] == comm_id
            if street:
                unknown_comm_same_street = (self._community[slots] == 0) & (self._street[slots] == street_id)
                same_comm |= unknown_comm_same_street
            mask &= same_comm
        elif street:
            mask &= self._street[slots] == street_id
        if at is not None:
            now = at.timestamp()
            times = self._time[slots]
            recent = (times <= now) & (times >= now - window_days * 86400)
            mask &= recent | np.isnan(times)  # cases without a time are kept
        return slots[mask]

    def _topic_vector(self, topic, create: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """A topic as fixed-width (ids, probabilities): a code means certainty, a list of
        (code, probability) pairs keeps the best TOPICS_KEPT."""
        ids = np.zeros(TOPICS_KEPT, dtype=np.int32)
        probs = np.zeros(TOPICS_KEPT, dtype=np.float32)
        pairs = [(topic, 1.0)] if isinstance(topic, str) else list(topic or [])[:TOPICS_KEPT]
        for i, (code, p) in enumerate(pairs):
            ids[i] = self._codes["topic"].get(code, create=create)
            probs[i] = p
        return ids, probs

    def _topic_agreement(self, slots: np.ndarray, topic) -> np.ndarray:
        """How much the subcategory guesses of the new appeal and each candidate agree (0..1)."""
        ids, probs = self._topic_vector(topic)
        theirs, their_p = self._topic[slots], self._topic_p[slots]  # (C, K)
        same = (theirs[:, :, None] == ids[None, None, :]) & (ids[None, None, :] > 0)
        dot = (same * their_p[:, :, None] * probs[None, None, :]).sum(axis=(1, 2))
        norms = np.sqrt((their_p ** 2).sum(axis=1) * (probs ** 2).sum()) + 1e-12
        return dot / norms

    def _urgency_agreement(self, slots: np.ndarray, urgency: float) -> np.ndarray:
        """1 - URGENCY_WEIGHT * |P(urgent) difference|: an emergency (电梯困人) and a routine complaint about the
        same thing at the same place (电梯年检过期) are different problems."""
        theirs = self._urgency[slots].astype(float)
        return np.where(np.isnan(theirs), 1.0, 1.0 - URGENCY_WEIGHT * np.abs(theirs - urgency))

    @staticmethod
    def _recent(buckets: dict[int, _SlotList], code: int) -> np.ndarray:
        bucket = buckets.get(code)
        return bucket.tail(MAX_SCAN) if bucket is not None else _EMPTY

    def _building_agreement(self, slots: np.ndarray, ours: int) -> np.ndarray:
        """0 where both name buildings and none coincide (3号楼 vs 5号楼), else 1."""
        if not ours:
            return np.ones(slots.size)
        theirs = self._building[slots]
        differ = (theirs != 0) & ((theirs & np.uint64(ours)) == 0)
        return np.where(differ, 0.0, 1.0)

    # ---------------------------------------------------------------- helpers
    def add_many(self, rows: Iterable[dict]) -> None:
        """Bulk load: rows with key, text and optional community, street, at, topic, place, urgency.

        The LSH keeps a small set per bucket, millions of them for a large index; Python's cyclic
        garbage collector would rescan them all again and again while they are created. It is
        paused during the load, and what was loaded is moved out of its sight (gc.freeze)."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for row in rows:
                self.add(row["key"], row["text"], row.get("community"), row.get("street"),
                         row.get("at"), row.get("topic"), row.get("place"), row.get("urgency"))
        finally:
            if was_enabled:
                gc.enable()
            gc.freeze()
