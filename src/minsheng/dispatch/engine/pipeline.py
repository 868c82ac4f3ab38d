"""The dispatch suggestion for one incoming appeal (智能分拨建议).

For a new appeal the dispatcher sees: what it is about (category/subcategory, top 3), how urgent,
where it happened, which unit should handle it and how sure the engine is, why (the matched place,
the words that decided the class, danger words), and which open cases look like the same problem.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Hashable

from .classifier import URGENT, DispatchClassifier, Prediction, danger_hits
from .duplicates import DuplicateIndex
from .gazetteer import Gazetteer, Location
from .taxonomy import Taxonomy

#: Location kinds precise enough to say two appeals are about the same spot.
SPECIFIC_PLACE_KINDS = ("place", "intersection")
#: Heating season in Zhengzhou (published practice: 15 Nov – 15 Mar); no heat then is urgent.
HEATING_SEASON = ((11, 15), (3, 15))
#: Heating outage, not "could be warmer" (暖气不热 is usually a routine complaint).
HEATING_OUTAGE = ("停暖", "暖气停", "没有暖气", "没暖气", "暖气冰凉", "暖气是凉的", "暖气全凉")


@dataclass
class Suggestion:
    category: list[tuple[str, float]]
    subcategory: list[tuple[str, float]]
    urgency: str
    urgency_probability: float
    location: Location
    unit: str | None  # "street:XXX" | "dept:XXX" | None (location needed)
    unit_confidence: float
    needs_location: bool
    reasons: list[str] = field(default_factory=list)
    key_terms: list[str] = field(default_factory=list)
    duplicates: list[tuple[Hashable, float]] = field(default_factory=list)
    model_version: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def in_heating_season(at: datetime | None) -> bool:
    if at is None:
        return False
    (start_m, start_d), (end_m, end_d) = HEATING_SEASON
    md = (at.month, at.day)
    return md >= (start_m, start_d) or md <= (end_m, end_d)


class DispatchEngine:
    """Classification + location + routing + duplicate lookup for incoming appeals."""

    def __init__(self, taxonomy: Taxonomy, gazetteer: Gazetteer, classifier: DispatchClassifier,
                 dup_index: DuplicateIndex | None = None, informed_duplicates: bool = True,
                 unit_by_marginal: bool = False):
        self.taxonomy = taxonomy
        self.gazetteer = gazetteer
        self.classifier = classifier
        self.dup_index = dup_index if dup_index is not None else DuplicateIndex()
        #: pass subcategory and place to the duplicate search (off for the naive baseline)
        self.informed_duplicates = informed_duplicates
        #: choose the unit with the highest total probability over subcategories instead of the
        #: top subcategory's unit. Off by default: the long tail of small territorial
        #: probabilities adds up and outvotes a clear department class (measured: -1.5 points
        #: of unit accuracy), and the unit should agree with the subcategory shown.
        self.unit_by_marginal = unit_by_marginal

    # ---------------------------------------------------------------- one appeal
    def suggest(self, text: str, address: str = "", at: datetime | None = None,
                case_key: Hashable | None = None, add_to_index: bool = True) -> Suggestion:
        prediction = self.classifier.predict(text, explain=True)
        return self._suggest(text, address, at, case_key, add_to_index, prediction)

    def suggest_many(self, rows: list[dict], explain: bool = False) -> list[Suggestion]:
        """Batch form: rows with text and optional address, at, case_key, add_to_index; with
        `explain`, the key terms among the reasons too, as `suggest` gives them."""
        predictions = self.classifier.predict_many([r["text"] for r in rows], explain=explain)
        return [self._suggest(r["text"], r.get("address", ""), r.get("at"), r.get("case_key"),
                              r.get("add_to_index", True), p)
                for r, p in zip(rows, predictions)]

    def _suggest(self, text: str, address: str, at: datetime | None, case_key: Hashable | None,
                 add_to_index: bool, prediction: Prediction) -> Suggestion:
        location = self.gazetteer.locate(text, address)
        urgency, urgency_p, urgency_reason = self._urgency(text, at, prediction)
        unit, unit_p = self._unit(prediction, location)
        territorial = self._is_territorial(prediction.top_subcategory)
        confidence = unit_p * (location.confidence if unit and unit.startswith("street:") else 1.0)
        duplicates = self._duplicates(text, location, at, prediction)
        if add_to_index and case_key is not None:
            self.dup_index.add(case_key, text, location.community, location.street, at,
                               **self._dup_context(location, prediction))
        reasons = self._reasons(prediction, location, unit, urgency_reason, territorial)
        return Suggestion(
            category=prediction.category,
            subcategory=prediction.subcategory,
            urgency=urgency,
            urgency_probability=urgency_p,
            location=location,
            unit=unit,
            unit_confidence=round(confidence, 3),
            needs_location=unit is None and territorial,
            reasons=reasons,
            key_terms=prediction.key_terms,
            duplicates=duplicates,
            model_version=getattr(self.classifier, "version", ""),
        )

    # ---------------------------------------------------------------- parts
    def _is_territorial(self, subcategory: str) -> bool:
        sub = self.taxonomy.subcategories.get(subcategory)
        return bool(sub and sub.territorial)

    def _unit(self, prediction: Prediction, location: Location) -> tuple[str | None, float]:
        """The handling unit and its probability under the class distribution."""
        totals: dict[str | None, float] = defaultdict(float)
        for sub, p in self._subcategory_distribution(prediction):
            totals[self.taxonomy.route(sub, location.street)] += p
        if self.unit_by_marginal:
            unit = max(totals, key=lambda u: totals[u])
        else:
            unit = self.taxonomy.route(prediction.top_subcategory, location.street)
        # the unit is right whenever the true subcategory routes there, whichever it is
        return unit, round(min(totals.get(unit, prediction.subcategory[0][1]), 1.0), 4)

    def _subcategory_distribution(self, prediction: Prediction) -> list[tuple[str, float]]:
        full = getattr(prediction, "distribution", None)
        return full if full else prediction.subcategory

    def _urgency(self, text: str, at: datetime | None, prediction: Prediction) -> tuple[str, float, str]:
        """The model's urgency, raised for a heating outage in the heating season (the taxonomy's
        urgent policy names 冬季停暖; the text alone cannot know the season)."""
        p = prediction.urgency_probability
        hits = danger_hits(text)
        if in_heating_season(at) and any(w in text for w in HEATING_OUTAGE):
            return URGENT, max(p, 0.9), "供暖季停暖"
        reason = f"危险词：{'、'.join(hits[:3])}" if hits and prediction.urgency == URGENT else ""
        return prediction.urgency, p, reason

    def _dup_context(self, location: Location, prediction: Prediction) -> dict:
        if not self.informed_duplicates:
            return {}
        place = location.label if location.kind in SPECIFIC_PLACE_KINDS else None
        return {"topic": prediction.subcategory, "place": place,
                "urgency": prediction.urgency_probability}

    def _duplicates(self, text: str, location: Location, at: datetime | None,
                    prediction: Prediction) -> list[tuple[Hashable, float]]:
        return self.dup_index.query(text, location.community, location.street, at,
                                    **self._dup_context(location, prediction))

    def _reasons(self, prediction: Prediction, location: Location, unit: str | None,
                 urgency_reason: str, territorial: bool) -> list[str]:
        sub = self.taxonomy.subcategories.get(prediction.top_subcategory)
        reasons = []
        if sub:
            reasons.append(f"分类：{sub.name}（{prediction.subcategory[0][1]:.0%}）")
        if prediction.key_terms:
            reasons.append("关键词：" + "、".join(prediction.key_terms))
        if location.street:
            reasons.append(location.reason)
        elif territorial:
            reasons.append(location.reason + "；属地事项需先确定地点")
        if sub and unit:
            if unit.startswith("street:"):
                reasons.append(f"属地办理：{self.gazetteer.street_name(unit[7:])}")
            else:
                reasons.append(f"职能部门：{self.taxonomy.unit_name(unit)}")
        if urgency_reason:
            reasons.append(urgency_reason)
        return reasons
