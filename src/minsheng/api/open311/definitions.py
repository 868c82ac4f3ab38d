"""The extra questions Open311 service definitions ask (data/open311_attributes.yaml), and
checking a request's answers to them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import yaml
from django.utils.dateparse import parse_datetime

from minsheng.data import DATA_DIR

ATTRIBUTES_PATH = DATA_DIR / "open311_attributes.yaml"
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
_MAX_LENGTH = {"string": 200, "text": 2000}


@dataclass(frozen=True)
class Attribute:
    """One question of a service definition, as GeoReport v2 describes it."""

    code: str
    description: str
    datatype: str
    required: bool
    order: int
    datatype_description: str = ""
    values: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description or None,
            "order": self.order,
            "description": self.description,
            "values": [{"key": key, "name": name} for key, name in self.values],
        }


@cache
def all_attributes() -> dict[str, tuple[Attribute, ...]]:
    """subcategory code → its questions, in order. Read once per process."""
    raw = yaml.safe_load(ATTRIBUTES_PATH.read_text(encoding="utf-8")) or {}
    result = {}
    for service_code, items in raw.items():
        attributes = []
        for order, item in enumerate(items, start=1):
            if item["datatype"] not in DATATYPES:
                raise ValueError(f"{ATTRIBUTES_PATH}: {service_code}.{item['code']}: unknown datatype {item['datatype']}")
            attributes.append(Attribute(
                code=str(item["code"]), description=str(item["description"]), datatype=item["datatype"],
                required=bool(item.get("required", False)), order=order,
                datatype_description=str(item.get("datatype_description", "")),
                values=tuple((str(v["key"]), str(v["name"])) for v in item.get("values", [])),
            ))
        result[str(service_code)] = tuple(attributes)
    return result


def attributes_for(service_code: str) -> tuple[Attribute, ...]:
    return all_attributes().get(service_code, ())


def clean_answers(service_code: str, raw: dict[str, list[str]]) -> tuple[dict, list[str], list[str]]:
    """Check the answers a request gives (attribute code → the values sent) against the
    service's questions. Returns (answers to store, lines for the case text, problems);
    answers to questions the service does not ask are ignored, as the spec allows."""
    answers: dict = {}
    lines: list[str] = []
    problems: list[str] = []
    for attribute in attributes_for(service_code):
        values = [v.strip() for v in raw.get(attribute.code, []) if v and v.strip()]
        if not values:
            if attribute.required:
                problems.append(f"attribute[{attribute.code}] ({attribute.description}) is required")
            continue
        names = dict(attribute.values)
        kind = attribute.datatype
        if kind == "multivaluelist":
            wrong = [v for v in values if v not in names]
            if wrong:
                problems.append(f"attribute[{attribute.code}]: {', '.join(wrong)} not among {', '.join(names)}")
                continue
            answers[attribute.code] = values
            shown = "、".join(names[v] for v in values)
        elif kind == "singlevaluelist":
            if values[0] not in names:
                problems.append(f"attribute[{attribute.code}]: {values[0]} not among {', '.join(names)}")
                continue
            answers[attribute.code] = values[0]
            shown = names[values[0]]
        elif kind == "number":
            try:
                number = float(values[0])
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                problems.append(f"attribute[{attribute.code}] must be a number")
                continue
            answers[attribute.code] = number
            shown = values[0]
        elif kind == "datetime":
            try:
                moment = parse_datetime(values[0])
            except ValueError:
                moment = None
            if moment is None:
                problems.append(f"attribute[{attribute.code}] must be a date and time (ISO 8601)")
                continue
            answers[attribute.code] = moment.isoformat()
            shown = values[0]
        else:
            text = values[0]
            if len(text) > _MAX_LENGTH[kind]:
                problems.append(f"attribute[{attribute.code}] is longer than {_MAX_LENGTH[kind]} characters")
                continue
            answers[attribute.code] = text
            shown = text
        lines.append(f"{attribute.description}：{shown}")
    return answers, lines, problems
