"""The appeal taxonomy (诉求分类) and its routing rules.

A district's taxonomy is data: categories, their subcategories, and for each subcategory
whether the appeal goes to the street office (街道办事处) of the appeal's location
("territorial", 属地) or to a named department (承办单位) wherever the appeal is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

TERRITORIAL = "territorial"
DEPARTMENT = "department"


@dataclass(frozen=True)
class Subcategory:
    code: str
    name: str
    routing: str  # "territorial" | "department"
    dept: str  # the responsible department (also the supervising one for territorial items)
    category: str
    note: str = ""

    @property
    def territorial(self) -> bool:
        return self.routing == TERRITORIAL


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    subcategories: tuple[str, ...]


@dataclass(frozen=True)
class UrgencyPolicy:
    code: str  # urgent | normal | complex
    acknowledge_within: str = ""
    contact_within: str = ""
    resolve_within: str = ""
    note: str = ""


@dataclass
class Taxonomy:
    categories: dict[str, Category]
    subcategories: dict[str, Subcategory]
    departments: dict[str, str] = field(default_factory=dict)
    urgency: dict[str, UrgencyPolicy] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Taxonomy":
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(yaml.safe_load(fh))

    @classmethod
    def from_dict(cls, data: dict) -> "Taxonomy":
        categories: dict[str, Category] = {}
        subcategories: dict[str, Subcategory] = {}
        for cat in data.get("categories") or []:
            codes = []
            for sub in cat.get("subcategories") or []:
                subcategories[sub["code"]] = Subcategory(
                    code=sub["code"],
                    name=sub["name"],
                    routing=sub.get("routing", DEPARTMENT),
                    dept=sub.get("dept", ""),
                    category=cat["code"],
                    note=sub.get("note", ""),
                )
                codes.append(sub["code"])
            categories[cat["code"]] = Category(cat["code"], cat["name"], tuple(codes))
        departments = {d["code"]: d["name"] for d in data.get("departments") or []}
        urgency = {
            code: UrgencyPolicy(code=code, **{k: str(v) for k, v in (spec or {}).items()})
            for code, spec in (data.get("urgency") or {}).items()
        }
        return cls(categories, subcategories, departments, urgency)

    def category_of(self, subcategory_code: str) -> str | None:
        sub = self.subcategories.get(subcategory_code)
        return sub.category if sub else None

    def route(self, subcategory_code: str | None, street_code: str | None) -> str | None:
        """The handling unit (承办单位) for an appeal.

        Territorial items go to the street office of the location ("street:XXX"); without a
        street they return None, meaning the dispatcher must first establish the location.
        Department items go to "dept:XXX" wherever they happened.
        """
        sub = self.subcategories.get(subcategory_code or "")
        if sub is None:
            return None
        if sub.territorial:
            return f"street:{street_code}" if street_code else None
        return f"dept:{sub.dept}"

    def unit_name(self, unit: str | None, street_names: dict[str, str] | None = None) -> str:
        """Human name of a unit code, e.g. "dept:CGJ" -> 区城市管理局."""
        if not unit:
            return ""
        kind, _, code = unit.partition(":")
        if kind == "dept":
            return self.departments.get(code, code)
        return (street_names or {}).get(code, code)
